import CSodium

/// libsodium's sealed box (`crypto_box_seal`: an ephemeral X25519 key and XSalsa20-Poly1305):
/// a message only the holder of the recipient's private key can open, which names no sender.
/// What the server keeps for a device that is offline (a missed call, docs/history.md) is
/// sealed this way; the sender's identity is proved inside it, by a signature.
public enum SealedBox {
    /// Bytes a sealed box adds to its message.
    public static let overhead = Int(crypto_box_sealbytes())

    public static func seal(_ message: [UInt8], to recipient: X25519PublicKey) -> [UInt8] {
        Sodium.ready()
        var sealed = [UInt8](repeating: 0, count: message.count + overhead)
        // Fails only for a message too large for libsodium (far beyond what a frame carries).
        let failed = crypto_box_seal(&sealed, message, UInt64(message.count), recipient.rawRepresentation) != 0
        precondition(!failed, "crypto_box_seal refused a \(message.count)-byte message")
        return sealed
    }

    /// The message, in memory that is zeroed when released.
    public static func open(_ sealed: [UInt8], with keyPair: X25519KeyPair) throws(KeyError) -> SecureBytes {
        guard sealed.count > overhead else { throw .unsealFailed }
        Sodium.ready()
        var failed = false
        let message = SecureBytes(count: sealed.count - overhead) { out in
            keyPair.privateKey.withUnsafeBytes { sk in
                failed =
                    crypto_box_seal_open(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self), sealed, UInt64(sealed.count),
                        keyPair.publicKey.rawRepresentation, sk.baseAddress!.assumingMemoryBound(to: UInt8.self)) != 0
            }
        }
        if failed { throw .unsealFailed }
        return message
    }
}
