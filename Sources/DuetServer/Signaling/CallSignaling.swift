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
        if let refusal = Self.check(to: request.to, callID: request.callID, kind: request.kind, payload: request.payload) {
            return .error(refusal)
        }
        let sender: String
        switch await registeredNumber(of: key) {
        case let .success(number): sender = number
        case let .failure(error): return .error(error.reply)
        }
        let signal = Signaling.CallSignal(from: sender, callID: request.callID, kind: request.kind, payload: request.payload)
        return await deliver(signal, to: request.to).map { .error($0) } ?? .callSignalSent
    }

    /// The reply to `callSignals`: each signal checked and handed on as one `callSignal` would
    /// be, under one look-up of the sender's number; the recipients refused, each with why.
    func forward(_ batch: Signaling.CallSignalBatch, fromKey key: [UInt8]) async -> ServerMessage {
        guard batch.signals.count <= Signaling.maximumGroupMembers else {
            return .error(
                .init(
                    code: .invalidMessage,
                    message: "\(batch.signals.count) signals in one request; send at most \(Signaling.maximumGroupMembers)"))
        }
        if let refusal = Self.checkTokens(callID: batch.callID, kind: batch.kind) { return .error(refusal) }
        let sender: String
        switch await registeredNumber(of: key) {
        case let .success(number): sender = number
        case let .failure(error): return .error(error.reply)
        }
        var refused: [Signaling.CallSignalBatchResult.Refusal] = []
        for (index, addressed) in batch.signals.enumerated() {
            let refusal: Signaling.ErrorReply?
            // The tokens were checked once, above.
            if let invalid = Self.check(to: addressed.to, payload: addressed.payload) {
                refusal = invalid
            } else {
                let signal = Signaling.CallSignal(from: sender, callID: batch.callID, kind: batch.kind, payload: addressed.payload)
                refusal = await deliver(signal, to: addressed.to)
            }
            if let refusal { refused.append(.init(index: index, to: addressed.to, error: refusal)) }
        }
        return .callSignalsSent(.init(refused: refused))
    }

    /// Hands `signal` to `recipient`'s connection; nil once it is queued there, else why not —
    /// whether the number exists at all, so a caller can tell a typo from a callee who is away.
    private func deliver(_ signal: Signaling.CallSignal, to recipient: String) async -> Signaling.ErrorReply? {
        if await context.switchboard.send(.callSignal(signal), toNumber: recipient) { return nil }
        do {
            guard try await context.directory.registeredNumbers(among: [recipient]).contains(recipient) else {
                return DirectoryError.unknownNumber(recipient).reply
            }
        } catch {
            return error.reply
        }
        return .init(code: .unavailable, message: "\(recipient) has no device online right now; try again later")
    }

    /// What is wrong with one signal's address, tokens or size, if anything.
    private static func check(to: String, callID: String, kind: String, payload: Base64Bytes) -> Signaling.ErrorReply? {
        checkTokens(callID: callID, kind: kind) ?? check(to: to, payload: payload)
    }

    /// What is wrong with one signal's address or size, if anything.
    private static func check(to: String, payload: Base64Bytes) -> Signaling.ErrorReply? {
        guard PhoneNumber.isValid(to) else { return DirectoryError.invalidNumber(to).reply }
        guard payload.bytes.count <= Signaling.maximumCallPayload else {
            return .init(
                code: .payloadTooLarge,
                message: "call signal payload of \(payload.bytes.count) bytes exceeds the \(Signaling.maximumCallPayload)-byte limit")
        }
        return nil
    }

    /// The reply to `relayCredentials`: short-lived TURN credentials bound to this call and
    /// the sender's number (coturn's, bound to the number, when the server has one).
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
        let now = Date().timeIntervalSince1970
        if let coturn = context.coturn { return .relayCredentials(coturn.issue(holder: holder, now: now)) }
        return .relayCredentials(context.relayCredentials.issue(callID: request.callID, number: holder, relay: context.media, now: now))
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
