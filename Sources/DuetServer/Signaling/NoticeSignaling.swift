import DuetWire

/// Sealed notices between devices (docs/history.md "Missed calls"): left by a registered
/// device for a number, taken and then forgotten by the device that number is bound to. The
/// server stores bytes it cannot open; the notice's sender is proved inside it, to the recipient.
struct NoticeSignaling {
    enum Request {
        case leave(Signaling.LeaveNotice)
        case take
        case forget(Signaling.NoticeIDs)
    }

    let directory: Directory
    /// Notices left per source address (numbers are free to take, so per key is not enough).
    let limiter: RateLimiter

    func serve(_ request: Request, fromKey key: [UInt8], source: String) async throws(DirectoryError) -> ServerMessage {
        switch request {
        case let .leave(notice):
            // A stranger (a key with no number) leaves nothing.
            guard try await directory.number(boundTo: key) != nil else { throw .notRegistered }
            if let wait = limiter.attempt(from: source) { throw .rateLimited(retryAfterSeconds: wait) }
            try await directory.leaveNotice(notice.sealed.bytes, for: notice.to, from: key)
            return .noticeLeft
        case .take:
            return try await waiting(for: key)
        case let .forget(list):
            try await directory.forgetNotices(list.ids, for: key)
            return try await waiting(for: key)
        }
    }

    /// The first page of what waits (`Directory.noticesPerPage`): a full mailbox never makes a
    /// reply larger than a frame; the device forgets a page and is handed the next.
    private func waiting(for key: [UInt8]) async throws(DirectoryError) -> ServerMessage {
        .notices(.init(notices: try await directory.notices(for: key).map { .init(id: $0.id, sealed: Base64Bytes($0.body)) }))
    }
}
