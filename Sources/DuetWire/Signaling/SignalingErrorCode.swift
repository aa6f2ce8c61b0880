/// The `code` of an `error` message. Open-ended (a newer server may send codes an older
/// client does not know), so a struct rather than an enum.
public struct SignalingErrorCode: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }

    // Protocol violations: they count towards closing a misbehaving connection.
    public static let frameTooLarge = Self(rawValue: "frame_too_large")
    public static let invalidJSON = Self(rawValue: "invalid_json")
    public static let unknownType = Self(rawValue: "unknown_type")
    public static let invalidMessage = Self(rawValue: "invalid_message")
    public static let unexpectedMessage = Self(rawValue: "unexpected_message")
    public static let notAuthenticated = Self(rawValue: "not_authenticated")
    public static let badSignature = Self(rawValue: "bad_signature")
    public static let tooManyErrors = Self(rawValue: "too_many_errors")

    // Refusals of well-formed requests.
    public static let invalidNumber = Self(rawValue: "invalid_number")
    public static let invalidKey = Self(rawValue: "invalid_key")
    public static let numberTaken = Self(rawValue: "number_taken")
    public static let invalidInvite = Self(rawValue: "invalid_invite")
    public static let keyAlreadyRegistered = Self(rawValue: "key_already_registered")
    public static let notRegistered = Self(rawValue: "not_registered")
    public static let unknownNumber = Self(rawValue: "unknown_number")
    /// The number is registered but none of its devices is online (a call cannot ring).
    public static let unavailable = Self(rawValue: "unavailable")
    /// A call signal's payload is over `Signaling.maximumCallPayload`.
    public static let payloadTooLarge = Self(rawValue: "payload_too_large")
    /// A call id or kind is not a short token (letters, digits, '-', '_'; at most 64).
    public static let invalidToken = Self(rawValue: "invalid_token")
    /// The group id is unknown, or this device's number is not a member of it.
    public static let unknownGroup = Self(rawValue: "unknown_group")
    /// A group name that is blank, too long or has control characters; or too many members.
    public static let invalidGroup = Self(rawValue: "invalid_group")
    /// No group call with that id in a group you are a member of.
    public static let unknownCall = Self(rawValue: "unknown_call")
    /// A group call with that id exists already.
    public static let callExists = Self(rawValue: "call_exists")
    /// Only the owner may remove someone else.
    public static let notPermitted = Self(rawValue: "not_permitted")
    /// Too many meeting join attempts from one address (codes cannot be guessed by brute force).
    public static let rateLimited = Self(rawValue: "rate_limited")
    /// Not a meeting this device is in, or a request only the host may make.
    public static let unknownMeeting = Self(rawValue: "unknown_meeting")
    /// The request needed the server to store something and its storage refused (disk full,
    /// read-only, failing); nothing was changed, and the same request may work later.
    public static let storageUnavailable = Self(rawValue: "storage_unavailable")
    /// The request would take this device past one of the server's quotas (live meetings it
    /// hosts, recordings running in them, numbers it watches); the message says which and how
    /// to make room.
    public static let quotaExceeded = Self(rawValue: "quota_exceeded")
    public static let internalError = Self(rawValue: "internal_error")
}
