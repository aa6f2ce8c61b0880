import CSodium
import DuetCrypto

/// The AEAD key and salt for one KID, derived from a sender's base key (RFC 9605 §4.4.2),
/// and the frame encryption and decryption that use them (§4.4.3, §4.4.4).
struct SFrameKeyMaterial: Sendable {
    let keyID: UInt64
    let suite: SFrameCipherSuite
    let key: SecureBytes
    let salt: SecureBytes

    /// Base keys shorter than an AES-128 key are refused.
    static let minimumBaseKeyLength = 16

    init(baseKey: SecureBytes, keyID: UInt64, suite: SFrameCipherSuite) throws(SFrameError) {
        guard suite.isAvailable else { throw .cipherSuiteUnavailable(suite) }
        guard baseKey.count >= Self.minimumBaseKeyLength else {
            throw .baseKeyTooShort(length: baseKey.count, minimum: Self.minimumBaseKeyLength)
        }
        let secret = Self.secret(baseKey: baseKey, suite: suite)
        key = HKDF.expand(suite.hash, pseudorandomKey: secret, info: Self.label("key", keyID: keyID, suite: suite), count: suite.keyCount)
        salt = HKDF.expand(
            suite.hash, pseudorandomKey: secret, info: Self.label("salt", keyID: keyID, suite: suite), count: suite.nonceCount)
        self.keyID = keyID
        self.suite = suite
    }

    /// sframe_secret = HKDF-Extract("", base_key).
    static func secret(baseKey: SecureBytes, suite: SFrameCipherSuite) -> SecureBytes {
        HKDF.extract(suite.hash, salt: [UInt8](), inputKeyMaterial: baseKey)
    }

    /// "SFrame 1.0 Secret key " or "... salt " (note the trailing space), then the KID as
    /// 8 bytes and the suite as 2 bytes, big-endian.
    static func label(_ kind: String, keyID: UInt64, suite: SFrameCipherSuite) -> [UInt8] {
        var label = Array("SFrame 1.0 Secret \(kind) ".utf8)
        withUnsafeBytes(of: keyID.bigEndian) { label.append(contentsOf: $0) }
        withUnsafeBytes(of: suite.rawValue.bigEndian) { label.append(contentsOf: $0) }
        return label
    }

    /// Whether two materials hold the same key, compared in constant time.
    func sameKey(as other: SFrameKeyMaterial) -> Bool {
        suite == other.suite && key.constantTimeEquals(other.key) && salt.constantTimeEquals(other.salt)
    }

    /// header ‖ AEAD.Encrypt(key, salt ⊕ CTR, header ‖ metadata, plaintext).
    func seal(counter: UInt64, plaintext: [UInt8], metadata: [UInt8]) -> [UInt8] {
        let header = SFrameHeader(keyID: keyID, counter: counter)
        var frame: [UInt8] = []
        frame.reserveCapacity(header.encodedLength + plaintext.count + suite.tagLength)
        header.encode(into: &frame)
        let headerLength = frame.count
        let aad = metadata.isEmpty ? frame : frame + metadata
        frame.append(contentsOf: repeatElement(0, count: plaintext.count + suite.tagLength))
        withNonce(counter: counter) { nonce in
            key.withUnsafeBytes { key in
                frame.withUnsafeMutableBufferPointer { out in
                    plaintext.withUnsafeBufferPointer { message in
                        aad.withUnsafeBufferPointer { aad in
                            var written: UInt64 = 0
                            let status = crypto_aead_aes256gcm_encrypt(
                                out.baseAddress! + headerLength, &written,
                                message.baseAddress, UInt64(message.count),
                                aad.baseAddress, UInt64(aad.count),
                                nil, nonce, key.baseAddress!.assumingMemoryBound(to: UInt8.self))
                            // libsodium's AES-GCM encrypt fails only for messages over 64 GiB.
                            precondition(status == 0 && Int(written) == message.count + suite.tagLength)
                        }
                    }
                }
            }
        }
        return frame
    }

    /// Decrypts the frame whose header (already decoded, `headerLength` bytes) names this key.
    func open(_ frame: UnsafeRawBufferPointer, headerLength: Int, counter: UInt64, metadata: [UInt8]) throws(SFrameError) -> [UInt8] {
        let ciphertextLength = frame.count - headerLength
        let aad = metadata.isEmpty ? Array(frame[0..<headerLength]) : Array(frame[0..<headerLength]) + metadata
        let status = withNonce(counter: counter) { nonce in
            key.withUnsafeBytes { key in
                aad.withUnsafeBufferPointer { aad in
                    var plaintext = [UInt8](repeating: 0, count: ciphertextLength - suite.tagLength)
                    var written: UInt64 = 0
                    let status = plaintext.withUnsafeMutableBufferPointer { out in
                        crypto_aead_aes256gcm_decrypt(
                            out.baseAddress ?? nonce, &written, nil,
                            frame.baseAddress!.assumingMemoryBound(to: UInt8.self) + headerLength, UInt64(ciphertextLength),
                            aad.baseAddress, UInt64(aad.count),
                            nonce, key.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                    return status == 0 ? plaintext : nil
                }
            }
        }
        guard let status else { throw .authenticationFailed(keyID: keyID, counter: counter) }
        return status
    }

    /// nonce = salt ⊕ big-endian(CTR) in the low 8 bytes, held in scratch memory that is
    /// wiped afterwards (it reveals the salt to anyone who knows the counter).
    private func withNonce<R>(counter: UInt64, _ body: (UnsafeMutablePointer<UInt8>) -> R) -> R {
        let length = suite.nonceLength
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { nonce in
            salt.withUnsafeBytes { salt in
                for index in 0..<length { nonce[index] = salt[index] }
            }
            for index in 0..<8 {
                nonce[length - 1 - index] ^= UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index)))
            }
            defer { sodium_memzero(nonce.baseAddress!, length) }
            return body(nonce.baseAddress!)
        }
    }
}
