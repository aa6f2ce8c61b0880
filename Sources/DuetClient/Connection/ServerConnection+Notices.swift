import DuetWire

/// Sealed notices (docs/history.md "Missed calls"). Errors: `.server` with code
/// `unknown_number`, `not_registered` (only a registered device leaves one) or `quota_exceeded`
/// (too many waiting for that device, from this one or from everyone).
extension ServerConnection {
    /// Asks the server to keep `sealed` for `number`'s device until it takes it.
    public func leaveNotice(for number: String, sealed: [UInt8]) async throws(ServerConnectionError) {
        guard case .noticeLeft = try await send(.leaveNotice(.init(to: number, sealed: Base64Bytes(sealed)))) else {
            throw unexpected("leaveNotice")
        }
    }

    /// The sealed notices waiting for this device, oldest first; they stay until forgotten.
    public func takeNotices() async throws(ServerConnectionError) -> [Signaling.SealedNotice] {
        guard case let .notices(list) = try await send(.takeNotices) else { throw unexpected("takeNotices") }
        return list.notices
    }

    /// This device has kept these: the server forgets them. Returns what still waits.
    @discardableResult
    public func forgetNotices(_ ids: [Int64]) async throws(ServerConnectionError) -> [Signaling.SealedNotice] {
        guard case let .notices(list) = try await send(.forgetNotices(.init(ids: ids))) else { throw unexpected("forgetNotices") }
        return list.notices
    }
}
