import DuetCrypto
import DuetWire
import Foundation

/// Missed calls left while this device was away (docs/history.md "Missed calls"): taken from
/// the server after each login, a page at a time, opened, checked against the key this device
/// knows for their caller, kept in the history, told as notices, and then forgotten by the
/// server — each only once it is recorded, or known to be bad for good.
extension DeviceSession {
    /// How many pages one collection takes at most (the server keeps at most 100 notices).
    static let maximumNoticePages = 4

    /// Takes the waiting notices; the missed calls newly recorded, oldest first. One collection
    /// at a time: each waits for the one before it, then takes what is left.
    @discardableResult
    public func collectMissedCalls() async -> [CallRecord] {
        let previous = missedCallCollection
        let collection = Task {
            _ = await previous?.value
            return await self.takeMissedCalls()
        }
        missedCallCollection = collection
        return await collection.value
    }

    private func takeMissedCalls() async -> [CallRecord] {
        var missed: [CallRecord] = []
        guard var page = try? await connection.takeNotices() else { return [] }
        for _ in 0..<Self.maximumNoticePages where !page.isEmpty {
            var done: [Int64] = []
            for sealed in page {
                switch await missedCall(in: sealed.sealed.bytes) {
                case let .recorded(record):
                    missed.append(record)
                    done.append(sealed.id)
                case .duplicate:
                    done.append(sealed.id)
                case let .dropped(error):
                    notices.append(.warning(.refused, error.description))
                    done.append(sealed.id)
                case .later:
                    break  // kept on the server for the next login
                }
            }
            guard !done.isEmpty, let next = try? await connection.forgetNotices(done) else { break }
            page = next
        }
        return missed
    }

    /// What became of one notice.
    private enum Taken {
        case recorded(CallRecord)
        /// Its call is in the history already.
        case duplicate
        /// Bad for good: forgotten, with a warning.
        case dropped(MissedCallError)
        /// Could not be checked or kept now (the store, the server): left on the server.
        case later
    }

    private func missedCall(in sealed: [UInt8]) async -> Taken {
        guard let identity = try? store.identity(), let own = try? store.account().number else { return .later }
        let notice: MissedCallNotice, signer: IdentityPublicKey
        do throws(MissedCallError) { (notice, signer) = try MissedCallNotice.open(sealed, with: identity) } catch { return .dropped(error) }
        guard notice.to == own, notice.from != own else { return .dropped(.notForUs(notice.to)) }
        let contact: Contact?
        do { contact = try store.contact(number: notice.from) } catch { return .later }
        // A contact's key is the one this device trusts; anyone else's is the directory's word.
        let known: IdentityPublicKey
        if let key = contact?.identityKey {
            known = key
        } else {
            guard let looked = try? await connection.lookup(number: notice.from) else { return .later }
            known = looked.identityKey
        }
        guard known == signer else { return .dropped(.wrongSigner(number: notice.from)) }
        // The caller's clock, within reason: a notice dated in the future cannot sit on top of
        // the history, nor one from long ago slip under it.
        let now = Date()
        let at = min(max(notice.date, now.addingTimeInterval(-30 * 86_400)), now)
        let record = CallRecord(
            kind: .call, direction: .incoming, peer: notice.from, peerName: contact?.name, callID: notice.callID,
            startedAt: at, endedAt: at, outcome: .missed)
        do { guard try store.beginCall(record) else { return .duplicate } } catch { return .later }
        let time = at.formatted(date: .omitted, time: .shortened)
        let stranger = contact == nil ? " (not in your contacts)" : ""
        notices.append(Notice(.missedCall(number: notice.from), .info, "missed call from \(record.who)\(stranger) at \(time)"))
        return .recorded(record)
    }
}
