import DuetWire
import Foundation

/// The server's part in 1:1 calls (docs/ARCHITECTURE.md "Calls"): forwarding call signals it cannot read, and
/// issuing relay credentials for a call. Both need the sender's registered number, which
/// comes from the directory (bound to the authenticated key), never from the message: a
/// device cannot ring as someone else, nor get relay credentials in another's name.
struct CallSignaling {
    let context: SignalingContext

    /// The reply to a `callSignal` request: `callSignalSent` once the callee's connection has
    /// the signal queued, or an error a caller can show ("not registered", "offline").
    func forward(_ request: Signaling.CallSignalRequest, fromKey key: [UInt8]) async -> ServerMessage {
        guard PhoneNumber.isValid(request.to) else { return .error(DirectoryError.invalidNumber(request.to).reply) }
        if let refusal = Self.checkTokens(callID: request.callID, kind: request.kind) { return .error(refusal) }
        guard request.payload.bytes.count <= Signaling.maximumCallPayload else {
            return .error(
                .init(
                    code: .payloadTooLarge,
                    message:
                        "call signal payload of \(request.payload.bytes.count) bytes exceeds the \(Signaling.maximumCallPayload)-byte limit"
                ))
        }
        let sender: String
        switch await registeredNumber(of: key) {
        case let .success(number): sender = number
        case let .failure(error): return .error(error.reply)
        }
        let signal = Signaling.CallSignal(from: sender, callID: request.callID, kind: request.kind, payload: request.payload)
        if await context.hub.send(.callSignal(signal), toNumber: request.to) { return .callSignalSent }
        // Not online: say whether the number exists at all, so the caller can tell a typo
        // from a callee who is away.
        do {
            guard try await context.directory.registeredNumbers(among: [request.to]).contains(request.to) else {
                return .error(DirectoryError.unknownNumber(request.to).reply)
            }
        } catch {
            return .error(error.reply)
        }
        return .error(.init(code: .unavailable, message: "\(request.to) has no device online right now; try again later"))
    }

    /// The reply to `relayCredentials`: short-lived TURN credentials bound to this call and
    /// the sender's number.
    func relayCredentials(_ request: Signaling.RelayCredentialsRequest, forKey key: [UInt8]) async -> ServerMessage {
        if let refusal = Self.checkTokens(callID: request.callID, kind: "relay") { return .error(refusal) }
        let holder: String
        switch await registeredNumber(of: key) {
        case let .success(number):
            holder = number
        case .failure(.notRegistered):
            // A meeting's guest has no number, but its leg to the media port may need the relay
            // as much as anyone's (a network that lets no UDP out): credentials for the meeting
            // it is in, under its guest id.
            guard let member = await context.meetings.room(request.callID)?.members.first(where: { $0.key == key }) else {
                return .error(DirectoryError.notRegistered.reply)
            }
            holder = member.id
        case let .failure(error):
            return .error(error.reply)
        }
        return .relayCredentials(
            context.relayCredentials.issue(callID: request.callID, number: holder, relay: context.media, now: Date().timeIntervalSince1970))
    }

    private func registeredNumber(of key: [UInt8]) async -> Result<String, DirectoryError> {
        do {
            guard let number = try await context.directory.number(boundTo: key) else { return .failure(.notRegistered) }
            return .success(number)
        } catch {
            return .failure(error)
        }
    }

    private static func checkTokens(callID: String, kind: String) -> Signaling.ErrorReply? {
        for (name, value) in [("call id", callID), ("kind", kind)] where !Signaling.isValidToken(value) {
            return .init(
                code: .invalidToken, message: "the \(name) must be 1 to \(Signaling.maximumTokenLength) letters, digits, '-' or '_'")
        }
        return nil
    }
}
