import DuetMedia
import DuetWire
import Logging
import NIOCore

/// What every signaling connection shares: the directory, the switchboard, the certificate the
/// logins are bound to, the relay's credential issuer and the SFU's entrance (its media
/// port, its DTLS fingerprint, and the legs devices announced).
struct SignalingContext: Sendable {
    let directory: Directory
    let switchboard: Switchboard
    let fingerprint: CertificateFingerprint
    let relayCredentials: RelayCredentialIssuer
    /// How the media port is addressed to devices (see `MediaAdvertisement`).
    let advertisement: MediaAdvertisement
    /// Where this connection's device sends media (SFU legs, relay), and the fingerprint the
    /// media port's DTLS certificate has. Set per connection by `seen(at:)`.
    private(set) var media: HostPort
    let mediaFingerprint: DTLSFingerprint
    /// Shared with the media loop, which admits only the handshakes announced here.
    let mediaLegs: AnnouncedLegs
    let logger: Logger
    /// The group calls' rooms.
    let groupCalls = GroupCallRegistry()
    /// The rooms other nodes hold that devices connected here are in (several nodes only).
    let remoteRooms = RemoteRooms()
    /// The members of this node's rooms that other nodes brought in (several nodes only).
    let forwardedMembers = ForwardedMembers()
    /// The meetings, and the per-address limit on knocking at them.
    let meetings = MeetingRegistry()
    /// Meeting join attempts per source address: 8, then one per 6 s.
    let joinLimiter = RateLimiter(burst: 8, refill: .seconds(6))
    /// Sealed notices left, per source address (`SignalingLimits.noticeBurst`, docs/history.md).
    private(set) var noticeLimiter = RateLimiter(burst: SignalingLimits().noticeBurst, refill: .seconds(60))
    let prekeyHandouts = PrekeyHandoutLimit()
    /// The meetings' recorders (nil: this server records nothing).
    var recordings: MeetingRecordings?
    /// See `ServerConfiguration.coturn`.
    var coturn: CoturnRelay?
    /// See `ServerConfiguration.loginTimeout`.
    var loginTimeout: Duration = .seconds(15)
    /// See `ServerConfiguration.knockTimeout`.
    var knockTimeout: Duration = .seconds(120)
    /// See `ServerConfiguration.signalingLimits`.
    var limits = SignalingLimits()
    /// The largest reply queue any connection held (see `SignalingOutbox`).
    let outboxMeter = OutboxMeter()

    init(
        directory: Directory, switchboard: Switchboard, fingerprint: CertificateFingerprint, relayCredentials: RelayCredentialIssuer,
        advertisement: MediaAdvertisement, mediaFingerprint: DTLSFingerprint, mediaLegs: AnnouncedLegs, logger: Logger
    ) {
        self.directory = directory
        self.switchboard = switchboard
        self.fingerprint = fingerprint
        self.relayCredentials = relayCredentials
        self.advertisement = advertisement
        self.media = advertisement.media(seenAt: nil)
        self.mediaFingerprint = mediaFingerprint
        self.mediaLegs = mediaLegs
        self.logger = logger
    }

    /// The operator's choices that every connection applies (`ServerConfiguration`).
    mutating func configure(_ configuration: ServerConfiguration, recordings: MeetingRecordings) {
        coturn = configuration.coturn
        loginTimeout = configuration.loginTimeout
        knockTimeout = configuration.knockTimeout
        limits = configuration.signalingLimits
        noticeLimiter = RateLimiter(burst: limits.noticeBurst, refill: .seconds(60))
        self.recordings = recordings
    }

    /// This context for a connection whose device reached the server at `local`.
    func seen(at local: SocketAddress?) -> SignalingContext {
        var copy = self
        copy.media = advertisement.media(seenAt: local)
        return copy
    }

    /// Sends `recipient` its queued keyChanged notices if it is online, then forgets them.
    func deliverPendingKeyChanges(to recipient: [UInt8]) async {
        do {
            let pending = try await directory.pendingKeyChanges(for: recipient)
            guard !pending.isEmpty else { return }
            var delivered: [Int64] = []
            // Sent wherever the device is connected, but forgotten only once a connection here
            // took it: one handed to another node may still be lost there, and a notice kept is
            // sent again at the device's next login (twice is harmless: the key is the same).
            let connectedHere = await switchboard.hub.isConnected(key: recipient)
            for item in pending where await switchboard.send(.keyChanged(item.notice), toKey: recipient) && connectedHere {
                delivered.append(item.id)
            }
            try await directory.deletePendingKeyChanges(ids: delivered)
        } catch DirectoryError.storage {
            // Logged once for the whole episode by StorageHealth; the notices stay queued and are sent again.
        } catch {
            logger.warning("could not deliver queued key changes", metadata: ["error": "\(error)"])
        }
    }

    /// Tells the devices watching `number` that it came online or went offline.
    func announcePresence(of number: String, online: Bool) async {
        do {
            let watchers = try await directory.watchers(of: number)
            await switchboard.send(.presence(.init(number: number, online: online)), toKeys: watchers)
        } catch {
            logger.warning("could not announce presence", metadata: ["number": "\(number)", "error": "\(error)"])
        }
    }

    /// Asks the owner of `number` to top up when its one-time prekeys run low.
    func warnIfPrekeysLow(number: String, remaining: Int) async {
        guard remaining < Directory.lowPrekeyThreshold else { return }
        await switchboard.send(.prekeysLow(.init(remaining: remaining)), toNumber: number)
    }
}
