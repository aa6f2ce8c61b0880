import DuetCrypto
import Foundation

/// What a caller leaves, through the server, for a callee whose device was away (docs/history.md
/// "Missed calls"): sealed to the callee's identity key, so only that device reads it, and signed
/// inside by the caller's — a notice whose signer is not the key the callee knows for that
/// number (a contact's, else the directory's) is dropped, so the server cannot make one up from
/// a contact.
public struct MissedCallNotice: Codable, Equatable, Sendable {
    public let from: String
    public let to: String
    public let callID: String
    /// When the call was placed, in milliseconds since 1970 (the caller's clock).
    public let at: Int64
    public let video: Bool

    public init(from: String, to: String, callID: String, at date: Date = Date(), video: Bool = false) {
        self.from = from
        self.to = to
        self.callID = callID
        self.at = Int64((date.timeIntervalSince1970 * 1000).rounded())
        self.video = video
    }

    public var date: Date { Date(timeIntervalSince1970: Double(at) / 1000) }

    /// The signed notice as the server keeps it, sealed to `recipient`.
    func sealed(by identity: IdentityKeyPair, to recipient: IdentityPublicKey) throws -> [UInt8] {
        let notice = try JSONEncoder().encode(self)
        let envelope = Envelope(
            notice: notice, identityKey: Data(identity.publicKey.rawRepresentation),
            signature: Data(identity.signature(for: Self.transcript(Array(notice)))))
        return SealedBox.seal(Array(try JSONEncoder().encode(envelope)), to: recipient.agreementKey)
    }

    /// Opens a notice sealed to this device and checks its signature; the signer's key is
    /// returned for the caller to compare with the key it knows for `from`.
    static func open(_ sealed: [UInt8], with identity: IdentityKeyPair) throws(MissedCallError) -> (MissedCallNotice, IdentityPublicKey) {
        let opened: SecureBytes
        do { opened = try SealedBox.open(sealed, with: identity.agreementKeyPair) } catch { throw .unreadable("\(error)") }
        let bytes = opened.withUnsafeBytes { Data($0) }
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: bytes),
            let signer = try? IdentityPublicKey(rawRepresentation: envelope.identityKey),
            signer.isValidSignature(Array(envelope.signature), for: Self.transcript(Array(envelope.notice))),
            let notice = try? JSONDecoder().decode(MissedCallNotice.self, from: envelope.notice)
        else { throw .unreadable("not a signed missed-call notice") }
        return (notice, signer)
    }

    private static func transcript(_ notice: [UInt8]) -> [UInt8] { Array("duet missed call v1".utf8) + notice }

    private struct Envelope: Codable {
        let notice: Data
        let identityKey: Data
        let signature: Data
    }
}

/// Why a sealed notice was dropped.
public enum MissedCallError: Error, Equatable, CustomStringConvertible {
    /// It did not open with this device's key, or is not a signed notice.
    case unreadable(String)
    /// Signed by another key than the one this device knows for the number it claims.
    case wrongSigner(number: String)
    /// For another number than this device's.
    case notForUs(String)

    public var description: String {
        switch self {
        case let .unreadable(why): "a sealed notice was dropped: \(why)"
        case let .wrongSigner(number): "a missed-call notice claiming to be from \(number) is not signed by \(number)'s key; dropped"
        case let .notForUs(number): "a missed-call notice for \(number), not this device's number, was dropped"
        }
    }
}
