import CSodium

/// libsodium's crypto_secretstream_xchacha20poly1305: a long message cut into chunks, each
/// authenticated in order, the last one tagged FINAL. It is what lets a recording be written
/// as it happens (nothing held in memory) and still be refused when a chunk was dropped,
/// reordered, altered, or the file was cut short — which a per-chunk AEAD alone cannot tell.
///
/// The C state and tag constants stay in this file; callers see `SecureBytes` keys and
/// `[UInt8]` chunks. The sizes are read through libsodium's functions because the
/// `…_ABYTES` and `…_TAG_FINAL` macros are expressions Swift cannot import.
public enum SecretStream {
    public static var keyCount: Int { Int(crypto_secretstream_xchacha20poly1305_keybytes()) }
    public static var headerCount: Int { Int(crypto_secretstream_xchacha20poly1305_headerbytes()) }
    /// Bytes each chunk grows by when encrypted (1 tag byte + 16-byte MAC).
    public static var overhead: Int { Int(crypto_secretstream_xchacha20poly1305_abytes()) }

    public enum Tag: Sendable, Equatable {
        case message
        case final

        var raw: UInt8 {
            switch self {
            case .message: crypto_secretstream_xchacha20poly1305_tag_message()
            case .final: crypto_secretstream_xchacha20poly1305_tag_final()
            }
        }
    }

    /// Why a stream could not be started or a chunk opened.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// The key is not `keyCount` bytes.
        case wrongKeyLength(Int)
        /// The stream header is not `headerCount` bytes (or libsodium refused it).
        case badHeader
        /// The chunk did not authenticate: wrong key, wrong position, or altered bytes.
        case cannotOpen
        /// A chunk after the one tagged FINAL.
        case afterFinal

        public var description: String {
            switch self {
            case let .wrongKeyLength(count): "secretstream key must be 32 bytes, got \(count)"
            case .badHeader: "secretstream header is malformed"
            case .cannotOpen: "secretstream chunk did not authenticate (wrong key, or altered, dropped or reordered data)"
            case .afterFinal: "secretstream chunk follows the final chunk"
            }
        }
    }

    /// The encrypting end. Not Sendable: one writer owns a stream, in order.
    public final class Push {
        /// Goes at the front of the stream; the pulling end needs it (it is not secret).
        public let header: [UInt8]
        private let state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>
        private var finished = false

        public init(key: SecureBytes) throws(Failure) {
            Sodium.ready()
            guard key.count == SecretStream.keyCount else { throw .wrongKeyLength(key.count) }
            let state = UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>.allocate(capacity: 1)
            var header = [UInt8](repeating: 0, count: SecretStream.headerCount)
            _ = key.withUnsafeBytes { k in
                crypto_secretstream_xchacha20poly1305_init_push(state, &header, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            self.state = state
            self.header = header
        }

        deinit {
            sodium_memzero(state, MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
            state.deallocate()
        }

        /// Encrypts one chunk; `associatedData` is authenticated with it but not stored.
        public func push(_ plaintext: [UInt8], tag: Tag, associatedData: [UInt8] = []) throws(Failure) -> [UInt8] {
            guard !finished else { throw .afterFinal }
            if tag == .final { finished = true }
            var out = [UInt8](repeating: 0, count: plaintext.count + SecretStream.overhead)
            var written: UInt64 = 0
            _ = crypto_secretstream_xchacha20poly1305_push(
                state, &out, &written, plaintext, UInt64(plaintext.count),
                associatedData, UInt64(associatedData.count), tag.raw)
            return out
        }
    }

    /// The decrypting end. Not Sendable: one reader owns a stream, in order.
    public final class Pull {
        private let state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>
        /// Whether the chunk tagged FINAL has been opened.
        public private(set) var sawFinal = false

        public init(key: SecureBytes, header: [UInt8]) throws(Failure) {
            Sodium.ready()
            guard key.count == SecretStream.keyCount else { throw .wrongKeyLength(key.count) }
            guard header.count == SecretStream.headerCount else { throw .badHeader }
            // A local until it succeeds: a throw after `self.state` is set would run `deinit`.
            let state = UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>.allocate(capacity: 1)
            let status = key.withUnsafeBytes { k in
                crypto_secretstream_xchacha20poly1305_init_pull(state, header, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard status == 0 else {
                state.deallocate()
                throw .badHeader
            }
            self.state = state
        }

        deinit {
            sodium_memzero(state, MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
            state.deallocate()
        }

        /// Opens the next chunk and returns its plaintext and tag.
        public func pull(_ chunk: [UInt8], associatedData: [UInt8] = []) throws(Failure) -> (plaintext: [UInt8], tag: Tag) {
            guard !sawFinal else { throw .afterFinal }
            guard chunk.count >= SecretStream.overhead else { throw .cannotOpen }
            var out = [UInt8](repeating: 0, count: chunk.count - SecretStream.overhead)
            var written: UInt64 = 0
            var tag: UInt8 = 0
            let status = crypto_secretstream_xchacha20poly1305_pull(
                state, &out, &written, &tag, chunk, UInt64(chunk.count),
                associatedData, UInt64(associatedData.count))
            guard status == 0 else { throw .cannotOpen }
            if tag == Tag.final.raw {
                sawFinal = true
                return (out, .final)
            }
            // PUSH and REKEY tags are never written by Duet; treat them as ordinary chunks.
            return (out, .message)
        }
    }
}
