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

    /// Sends signals of one kind in one call to several numbers, in as few requests as fit a
    /// frame (`Signaling.CallSignalBatch`); each recipient's outcome, nil where the server
    /// handed the signal on (the errors are those of `sendCallSignal`).
    public func sendCallSignals(callID: String, kind: String, _ signals: [(to: String, payload: [UInt8])]) async -> [(
        to: String, failure: ServerConnectionError?
    )] {
        var outcomes: [(to: String, failure: ServerConnectionError?)] = []
        for batch in Self.batches(of: signals) {
            let request = Signaling.CallSignalBatch(
                callID: callID, kind: kind, signals: batch.map { .init(to: $0.to, payload: Base64Bytes($0.payload)) })
            do throws(ServerConnectionError) {
                guard case let .callSignalsSent(result) = try await send(.callSignals(request)) else { throw unexpected("callSignals") }
                let refused = Dictionary(result.refused.map { ($0.index, $0.error) }, uniquingKeysWith: { first, _ in first })
                outcomes += batch.enumerated().map { index, signal in
                    (signal.to, refused[index].map { .server(code: $0.code, message: $0.message) })
                }
            } catch .server(code: .unknownType, message: _) {
                // A server from before `callSignals`: one request per signal, as it was.
                for signal in batch {
                    do throws(ServerConnectionError) {
                        try await sendCallSignal(to: signal.to, callID: callID, kind: kind, payload: signal.payload)
                        outcomes.append((signal.to, nil))
                    } catch { outcomes.append((signal.to, error)) }
                }
            } catch {
                outcomes += batch.map { ($0.to, error) }
            }
        }
        return outcomes
    }

    /// `signals` cut into requests of at most `Signaling.maximumGroupMembers` signals and about
    /// 48 KiB of JSON each (base64 grows a payload by a third), under the 64 KiB frame limit.
    static func batches(of signals: [(to: String, payload: [UInt8])]) -> [[(to: String, payload: [UInt8])]] {
        let budget = 48 * 1024
        var batches: [[(to: String, payload: [UInt8])]] = [], current: [(to: String, payload: [UInt8])] = [], size = 0
        for signal in signals {
            let cost = signal.payload.count * 4 / 3 + signal.to.utf8.count + 64
            if !current.isEmpty, current.count == Signaling.maximumGroupMembers || size + cost > budget {
                batches.append(current)
                current = []
                size = 0
            }
            current.append(signal)
            size += cost
        }
        if !current.isEmpty { batches.append(current) }
        return batches
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
