/// The bodies of the 1:1 call messages (docs/ARCHITECTURE.md "Calls"). The server forwards call signals
/// without reading them: `kind` is an opaque label the clients agree on (invite, answer,
/// confirm, decline, busy, cancel, hangup) and `payload` is their end-to-end encrypted blob.
extension Signaling {
    /// Largest call-signal payload the server forwards. An invitation (X3DH header, sealed
    /// offer with candidates) is well under 2 KiB; the cap keeps one device from pushing
    /// large frames through the hub to another.
    public static let maximumCallPayload = 16 * 1024

    /// Call ids and kinds are short tokens: letters, digits, '-' and '_'. Call ids appear in
    /// relay usernames ("expiry:callID:number"), so they must not contain ':'.
    public static let maximumTokenLength = 64

    public static func isValidToken(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard (1...maximumTokenLength).contains(utf8.count) else { return false }
        return utf8.allSatisfy { b in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
        }
    }

    /// C→S: forward `payload` to the device that speaks for `to`.
    public struct CallSignalRequest: Codable, Hashable, Sendable {
        public var to: String
        public var callID: String
        public var kind: String
        public var payload: Base64Bytes
        public init(to: String, callID: String, kind: String, payload: Base64Bytes) {
            self.to = to
            self.callID = callID
            self.kind = kind
            self.payload = payload
        }
    }

    /// C→S: signals of one kind in one call to several numbers at once (a group call member's
    /// sender key, sealed for each other member): one request and one look-up of the sender's
    /// number instead of one per recipient. At most `maximumGroupMembers` signals, each under
    /// `maximumCallPayload`, and the whole frame under the frame limit.
    public struct CallSignalBatch: Codable, Hashable, Sendable {
        public var callID: String
        public var kind: String
        public var signals: [Addressed]

        /// One recipient's signal.
        public struct Addressed: Codable, Hashable, Sendable {
            public var to: String
            public var payload: Base64Bytes
            public init(to: String, payload: Base64Bytes) {
                self.to = to
                self.payload = payload
            }
        }

        public init(callID: String, kind: String, signals: [Addressed]) {
            self.callID = callID
            self.kind = kind
            self.signals = signals
        }
    }

    /// S→C: the reply to `callSignals`. Every recipient not refused here has the signal queued
    /// on its device's connection, as after `callSignalSent`.
    public struct CallSignalBatchResult: Codable, Hashable, Sendable {
        public var refused: [Refusal]

        /// A signal the server could not hand on — `index` its place in the request, `to` its
        /// recipient — and why (as `error` would say).
        public struct Refusal: Codable, Hashable, Sendable {
            public var index: Int
            public var to: String
            public var error: ErrorReply
            public init(index: Int, to: String, error: ErrorReply) {
                self.index = index
                self.to = to
                self.error = error
            }
        }

        public init(refused: [Refusal]) { self.refused = refused }
    }

    /// S→C: a call signal for this device. `from` is stamped by the server with the sender's
    /// registered number; nothing the sender writes can change it.
    public struct CallSignal: Codable, Hashable, Sendable {
        public var from: String
        public var callID: String
        public var kind: String
        public var payload: Base64Bytes
        public init(from: String, callID: String, kind: String, payload: Base64Bytes) {
            self.from = from
            self.callID = callID
            self.kind = kind
            self.payload = payload
        }
    }

    /// C→S: ask for relay credentials valid for one call.
    public struct RelayCredentialsRequest: Codable, Hashable, Sendable {
        public var callID: String
        public init(callID: String) { self.callID = callID }
    }

    /// TURN long-term credentials for the server's relay (TURN REST style: the username
    /// carries its expiry, call id and number; the password is an HMAC of it under a server
    /// secret). `relay` is "HOST:PORT" of the media port, where the relay listens.
    public struct RelayCredentials: Codable, Hashable, Sendable, CustomStringConvertible {
        public var username: String
        public var password: String
        public var realm: String
        public var ttlSeconds: Int
        public var relay: String
        public init(username: String, password: String, realm: String, ttlSeconds: Int, relay: String) {
            self.username = username
            self.password = password
            self.realm = realm
            self.ttlSeconds = ttlSeconds
            self.relay = relay
        }

        /// Never the password: descriptions end up in logs.
        public var description: String { "RelayCredentials(username: \(username), realm: \(realm), ttl: \(ttlSeconds)s, relay: \(relay))" }
    }
}
