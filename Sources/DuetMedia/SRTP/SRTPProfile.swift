import CSRTP
import DuetCrypto

/// The SRTP protection profiles Duet speaks (RFC 5764 §4.1.2 numbering).
///
/// AES_CM_128_HMAC_SHA1_80 is the default because every SRTP tool speaks it;
/// AEAD_AES_128_GCM (RFC 7714) costs a third as much with Debian's NSS-backed libsrtp2 and
/// is preferred between Duet devices and the Duet server when DTLS-SRTP negotiates it.
public enum SRTPProfile: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case aesCM128HMACSHA1_80 = 0x0001
    case aeadAES128GCM = 0x0007

    /// Master key bytes (the cipher key).
    public var masterKeyLength: Int { 16 }
    /// Master salt bytes: 112 bits for AES-CM (RFC 3711), 96 bits for GCM (RFC 7714 §12).
    public var masterSaltLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80: 14
        case .aeadAES128GCM: 12
        }
    }
    /// Length of the key ‖ salt string a session is keyed with (what DTLS-SRTP exports per side).
    public var keyingMaterialLength: Int { masterKeyLength + masterSaltLength }
    /// Bytes `protect` appends to an RTP packet.
    public var authenticationTagLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80: 10
        case .aeadAES128GCM: 16
        }
    }

    /// The name in IANA's DTLS-SRTP registry, as logs and the call screen show it.
    public var description: String {
        switch self {
        case .aesCM128HMACSHA1_80: "AES_CM_128_HMAC_SHA1_80"
        case .aeadAES128GCM: "AEAD_AES_128_GCM"
        }
    }

    /// Whether this libsrtp2 build can make a session with this profile. GCM needs libsrtp2
    /// built against OpenSSL or NSS; Debian's is built on NSS and has it.
    public var isAvailable: Bool {
        switch self {
        case .aesCM128HMACSHA1_80: Self.cmAvailable
        case .aeadAES128GCM: Self.gcmAvailable
        }
    }

    private static let cmAvailable = probe(.aesCM128HMACSHA1_80)
    private static let gcmAvailable = probe(.aeadAES128GCM)

    private static func probe(_ profile: SRTPProfile) -> Bool {
        (try? SRTPSession(profile: profile, role: .sender, masterKey: SecureBytes(randomCount: profile.keyingMaterialLength))) != nil
    }

    var libsrtpProfile: srtp_profile_t {
        switch self {
        case .aesCM128HMACSHA1_80: srtp_profile_aes128_cm_sha1_80
        case .aeadAES128GCM: srtp_profile_aead_aes_128_gcm
        }
    }
}
