/// The bodies of signaling messages, shared by client and server. Keys are raw bytes here:
/// DuetWire knows no crypto, so each side turns them into typed keys (and checks them).
public enum Signaling {
    /// A signed prekey's public half; `createdAt` in whole seconds since 1970.
    public struct SignedPrekey: Codable, Hashable, Sendable {
        public var id: UInt32
        public var publicKey: Base64Bytes
        public var createdAt: Int64
        public var signature: Base64Bytes
        public init(id: UInt32, publicKey: Base64Bytes, createdAt: Int64, signature: Base64Bytes) {
            self.id = id
            self.publicKey = publicKey
            self.createdAt = createdAt
            self.signature = signature
        }
    }

    public struct OneTimePrekey: Codable, Hashable, Sendable {
        public var id: UInt32
        public var publicKey: Base64Bytes
        public init(id: UInt32, publicKey: Base64Bytes) {
            self.id = id
            self.publicKey = publicKey
        }
    }

    public struct Challenge: Codable, Hashable, Sendable {
        public var nonce: Base64Bytes
        public init(nonce: Base64Bytes) { self.nonce = nonce }
    }

    /// The device's Ed25519 identity key and its signature over `AuthenticationTranscript`.
    public struct Authenticate: Codable, Hashable, Sendable {
        public var identityKey: Base64Bytes
        public var signature: Base64Bytes
        public init(identityKey: Base64Bytes, signature: Base64Bytes) {
            self.identityKey = identityKey
            self.signature = signature
        }
    }

    /// Sent once the signature checks out; `number` is the number this key is bound to, if any.
    public struct Authenticated: Codable, Hashable, Sendable {
        public var number: String?
        /// The media port as this device should address it (STUN, relay, SFU): known before any
        /// call, so a call's first STUN Binding waits for nothing. Absent from older servers.
        public var media: String?
        /// Other nodes of this server (HOST:PORT of their signaling) that serve with the same
        /// certificate, for a device to reconnect to when this one goes away
        /// (docs/deployment.md "When a device's node dies"). Absent from one-node servers.
        public var nodes: [String]?
        public init(number: String?, media: String? = nil, nodes: [String]? = nil) {
            self.number = number
            self.media = media
            self.nodes = nodes
        }
    }

    /// C→S: a notice sealed to `to`'s identity key (docs/history.md); the server cannot read it.
    public struct LeaveNotice: Codable, Hashable, Sendable {
        public var to: String
        public var sealed: Base64Bytes
        public init(to: String, sealed: Base64Bytes) {
            self.to = to
            self.sealed = sealed
        }
    }

    /// One sealed notice waiting for this device.
    public struct SealedNotice: Codable, Hashable, Sendable {
        public var id: Int64
        public var sealed: Base64Bytes
        public init(id: Int64, sealed: Base64Bytes) {
            self.id = id
            self.sealed = sealed
        }
    }

    public struct Notices: Codable, Hashable, Sendable {
        public var notices: [SealedNotice]
        public init(notices: [SealedNotice]) { self.notices = notices }
    }

    public struct NoticeIDs: Codable, Hashable, Sendable {
        public var ids: [Int64]
        public init(ids: [Int64]) { self.ids = ids }
    }

    /// S→C event: the other nodes serving this certificate, as in `Authenticated.nodes`.
    public struct Nodes: Codable, Hashable, Sendable {
        public var nodes: [String]
        public init(nodes: [String]) { self.nodes = nodes }
    }

    public struct Register: Codable, Hashable, Sendable {
        public var number: String
        public var name: String?
        /// An operator-issued code that lets this key take a number bound to another key.
        public var invite: String?
        public var signedPrekey: SignedPrekey
        public var oneTimePrekeys: [OneTimePrekey]
        public init(number: String, name: String?, invite: String?, signedPrekey: SignedPrekey, oneTimePrekeys: [OneTimePrekey]) {
            self.number = number
            self.name = name
            self.invite = invite
            self.signedPrekey = signedPrekey
            self.oneTimePrekeys = oneTimePrekeys
        }
    }

    public struct Registered: Codable, Hashable, Sendable {
        public var number: String
        public var oneTimePrekeyCount: Int
        public init(number: String, oneTimePrekeyCount: Int) {
            self.number = number
            self.oneTimePrekeyCount = oneTimePrekeyCount
        }
    }

    /// Tops up one-time prekeys and, optionally, replaces the signed prekey (weekly rotation).
    public struct UploadPrekeys: Codable, Hashable, Sendable {
        public var signedPrekey: SignedPrekey?
        public var oneTimePrekeys: [OneTimePrekey]
        public init(signedPrekey: SignedPrekey?, oneTimePrekeys: [OneTimePrekey]) {
            self.signedPrekey = signedPrekey
            self.oneTimePrekeys = oneTimePrekeys
        }
    }

    /// How many one-time prekeys the server still holds for the device.
    public struct PrekeyCount: Codable, Hashable, Sendable {
        public var count: Int
        public init(count: Int) { self.count = count }
    }

    public struct NumberQuery: Codable, Hashable, Sendable {
        public var number: String
        public init(number: String) { self.number = number }
    }

    public struct Bundle: Codable, Hashable, Sendable {
        public var number: String
        public var identityKey: Base64Bytes
        public var signedPrekey: SignedPrekey
        public var oneTimePrekey: OneTimePrekey?
        public init(number: String, identityKey: Base64Bytes, signedPrekey: SignedPrekey, oneTimePrekey: OneTimePrekey?) {
            self.number = number
            self.identityKey = identityKey
            self.signedPrekey = signedPrekey
            self.oneTimePrekey = oneTimePrekey
        }
    }

    public struct BundleList: Codable, Hashable, Sendable {
        public var bundles: [Bundle]
        public init(bundles: [Bundle]) { self.bundles = bundles }
    }

    public struct LookupResult: Codable, Hashable, Sendable {
        public var number: String
        public var identityKey: Base64Bytes
        public var online: Bool
        public init(number: String, identityKey: Base64Bytes, online: Bool) {
            self.number = number
            self.identityKey = identityKey
            self.online = online
        }
    }

    public struct NumberList: Codable, Hashable, Sendable {
        public var numbers: [String]
        public init(numbers: [String]) { self.numbers = numbers }
    }

    public struct Presence: Codable, Hashable, Sendable {
        public var number: String
        public var online: Bool
        public init(number: String, online: Bool) {
            self.number = number
            self.online = online
        }
    }

    /// The reply to `watch`: the current presence of each watched number that is registered.
    public struct PresenceList: Codable, Hashable, Sendable {
        public var presence: [Presence]
        public init(presence: [Presence]) { self.presence = presence }
    }

    public struct KeyChanged: Codable, Hashable, Sendable {
        public var number: String
        public var newIdentityKey: Base64Bytes
        public init(number: String, newIdentityKey: Base64Bytes) {
            self.number = number
            self.newIdentityKey = newIdentityKey
        }
    }

    public struct PrekeysLow: Codable, Hashable, Sendable {
        public var remaining: Int
        public init(remaining: Int) { self.remaining = remaining }
    }

    public struct ErrorReply: Codable, Hashable, Sendable {
        public var code: SignalingErrorCode
        public var message: String
        public init(code: SignalingErrorCode, message: String) {
            self.code = code
            self.message = message
        }
    }
}
