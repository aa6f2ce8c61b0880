import DuetWire

/// Why the directory refused a well-formed request. Each maps to an `error` reply whose
/// message tells the device (and its user) what to do.
enum DirectoryError: Error, Equatable {
    case invalidNumber(String)
    case invalidKey(String)
    case numberTaken(String)
    case invalidInvite(String)
    case keyAlreadyRegistered(String)
    case notRegistered
    case unknownNumber(String)
    case tooManyPrekeys(Int)
    /// More numbers in one `fetchBundles` than a group has members.
    case tooManyBundles(Int)
    case unknownGroup(String)
    case invalidGroup(String)
    case notPermitted(String)
    case unknownCall(String)
    case callExists(String)
    /// A malformed DTLS fingerprint in a group-call request.
    case invalidFingerprint(String)
    /// Meetings: not one this device is in (or a host-only request from someone else), and
    /// too many join attempts from one address.
    case unknownMeeting(String)
    case rateLimited(retryAfterSeconds: Int)
    /// The change needed a write the data directory refused (full disk, read-only, I/O error);
    /// nothing was changed. The device's user is told what it is and to try later.
    case storage(StorageFailure)
    /// The meeting cannot be recorded for a reason other than storage (this server records
    /// nothing, or the recorder failed); `reason` is said to the user.
    case cannotRecord(String)
    /// The request would exceed a per-device quota (meetings hosted, recordings, numbers
    /// watched); `reason` says which, and how to make room.
    case quotaExceeded(String)
    /// Anything else that went wrong inside the server; `detail` is for the log only.
    case internalFailure(String)

    var reply: Signaling.ErrorReply {
        switch self {
        case let .invalidNumber(n):
            .init(code: .invalidNumber, message: "'\(n)' is not a number; write + then 1 to 15 digits, e.g. +15551234567")
        case let .invalidKey(reason):
            .init(code: .invalidKey, message: reason)
        case let .numberTaken(n):
            .init(
                code: .numberTaken,
                message:
                    "\(n) is registered to another identity key; ask the server operator for an invite code (duet server invite \(n)) to move it to this device"
            )
        case let .invalidInvite(n):
            .init(
                code: .invalidInvite,
                message:
                    "the invite code is not valid for \(n) (unknown, already used, or for another number); ask the operator for a new one")
        case let .keyAlreadyRegistered(n):
            .init(code: .keyAlreadyRegistered, message: "this identity key is already registered as \(n); one device key holds one number")
        case .notRegistered:
            .init(code: .notRegistered, message: "this device has not registered a number yet; register first")
        case let .unknownNumber(n):
            .init(code: .unknownNumber, message: "\(n) is not registered on this server")
        case let .tooManyPrekeys(n):
            .init(code: .invalidMessage, message: "\(n) one-time prekeys in one message; send at most \(Directory.maximumPrekeysPerUpload)")
        case let .tooManyBundles(n):
            .init(code: .invalidMessage, message: "\(n) bundles in one request; ask for at most \(Signaling.maximumGroupMembers)")
        case let .unknownGroup(id):
            .init(code: .unknownGroup, message: "no group '\(id)' that you are a member of; see duet group list")
        case let .invalidGroup(reason):
            .init(code: .invalidGroup, message: reason)
        case let .notPermitted(reason):
            .init(code: .notPermitted, message: reason)
        case let .unknownCall(id):
            .init(code: .unknownCall, message: "no group call '\(id)' in a group you are a member of (it may have ended)")
        case let .callExists(id):
            .init(code: .callExists, message: "a group call '\(id)' exists already; join it, or start one with another id")
        case let .invalidFingerprint(reason):
            .init(code: .invalidMessage, message: reason)
        case let .unknownMeeting(reason):
            .init(code: .unknownMeeting, message: reason)
        case let .rateLimited(seconds):
            .init(code: .rateLimited, message: "too many attempts to join meetings from your address; try again in \(seconds) s")
        case let .storage(failure):
            .init(code: .storageUnavailable, message: failure.replyMessage)
        case let .cannotRecord(reason):
            .init(code: .internalError, message: reason)
        case let .quotaExceeded(reason):
            .init(code: .quotaExceeded, message: reason)
        case .internalFailure:
            .init(code: .internalError, message: "the server could not complete the request; try again")
        }
    }
}
