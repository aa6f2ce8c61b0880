import CSodium

/// An X25519 public key: the 32-byte little-endian u-coordinate of RFC 7748.
public struct X25519PublicKey: Hashable, Sendable {
    public static let byteCount = 32
    public let rawRepresentation: [UInt8]

    public init(rawRepresentation: some Collection<UInt8>) throws(KeyError) {
        try checkLength(rawRepresentation.count, Self.byteCount, "X25519 public key")
        self.rawRepresentation = Array(rawRepresentation)
    }

    /// X3DH's Encode(PK): the curve-type byte 0x05 (libsignal's DJB type) then the u-coordinate.
    public var encoded: [UInt8] { [0x05] + rawRepresentation }
}

/// An X25519 key pair for Diffie-Hellman: signed prekeys, one-time prekeys, ephemerals.
public struct X25519KeyPair: Sendable {
    public let privateKey: SecureBytes
    public let publicKey: X25519PublicKey

    /// Rebuilds a pair from its 32-byte private scalar (X25519 clamps it).
    public init(privateKey: SecureBytes) throws(KeyError) {
        try checkLength(privateKey.count, 32, "X25519 private key")
        var pub = [UInt8](repeating: 0, count: 32)
        privateKey.withUnsafeBytes { sk in
            _ = crypto_scalarmult_base(&pub, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        self.privateKey = privateKey
        self.publicKey = try X25519PublicKey(rawRepresentation: pub)
    }

    /// A fresh pair from the system CSPRNG.
    public static func generate() -> X25519KeyPair {
        // A 32-byte random scalar always yields a valid key.
        try! X25519KeyPair(privateKey: SecureBytes(randomCount: 32))
    }

    /// DH(self, peer) as X3DH writes it. Refuses an all-zero result (small-order peer point).
    public func sharedSecret(with peer: X25519PublicKey) throws(KeyError) -> SecureBytes {
        var failed = false
        let secret = SecureBytes(count: 32) { out in
            privateKey.withUnsafeBytes { sk in
                failed =
                    crypto_scalarmult(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        sk.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        peer.rawRepresentation) != 0
            }
        }
        if failed { throw .weakPublicKey }
        return secret
    }
}
