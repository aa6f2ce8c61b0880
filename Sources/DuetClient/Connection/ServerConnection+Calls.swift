import DuetWire
import Foundation

/// 1:1 call requests (docs/ARCHITECTURE.md "Calls"): the server forwards call signals without reading them and
/// hands out relay credentials; the call engine does the rest.
extension ServerConnection {
    /// Sends an opaque call signal to the device that speaks for `to`. Returns once the server
    /// has handed it to that device's connection. Throws `.server(code: .unavailable, …)` when
    /// the callee has no device online, `.unknownNumber` when it is not registered, and
    /// `.notRegistered` when this device has no number yet (the callee would not know who rings).
    public func sendCallSignal(to: String, callID: String, kind: String, payload: [UInt8]) async throws(ServerConnectionError) {
        let request = Signaling.CallSignalRequest(to: to, callID: callID, kind: kind, payload: Base64Bytes(payload))
        guard case .callSignalSent = try await send(.callSignal(request)) else { throw unexpected("callSignal") }
    }

    /// Queues a call signal behind whatever was sent before it and does not wait for the
    /// server's receipt (which still comes, finds nobody waiting, and is dropped): for the
    /// signals on the way to the first audio, where waiting for the receipt held the answering
    /// device's checks back a round trip. A signal lost with a dropped connection is as lost as
    /// one the server dropped; nothing here tells.
    public func postCallSignal(to: String, callID: String, kind: String, payload: [UInt8]) {
        let request = Signaling.CallSignalRequest(to: to, callID: callID, kind: kind, payload: Base64Bytes(payload))
        post(.callSignal(request))
    }

    /// TURN credentials for the server's relay, valid for `callID` only and for minutes.
    public func relayCredentials(callID: String) async throws(ServerConnectionError) -> RelayCredentials {
        guard case let .relayCredentials(wire) = try await send(.relayCredentials(.init(callID: callID))) else {
            throw unexpected("relayCredentials")
        }
        let relay: HostPort
        do { relay = try HostPort(parsing: wire.relay) } catch {
            throw .invalidResponse("relay address '\(wire.relay)': \(error)")
        }
        guard wire.ttlSeconds > 0 else { throw .invalidResponse("relay credentials with a lifetime of \(wire.ttlSeconds) s") }
        return RelayCredentials(
            username: wire.username, password: wire.password, realm: wire.realm, relay: relay,
            ttl: .seconds(wire.ttlSeconds), expiresAt: Date().addingTimeInterval(TimeInterval(wire.ttlSeconds)))
    }
}
