import Foundation

/// The one way the call, group-call and meeting engines write the device's history
/// (docs/history.md). A write that fails is a notice for the user, never a failed call.
struct CallHistory: Sendable {
    let store: DeviceStore

    func began(_ record: CallRecord) -> Notice? {
        attempt { () throws(DeviceStoreError) in try store.beginCall(record) }
    }

    func connected(_ kind: CallRecord.Kind, _ callID: String, path: String, verified: Bool = false) -> Notice? {
        attempt { () throws(DeviceStoreError) in try store.callConnected(kind, callID, path: path, verified: verified) }
    }

    /// Ended: `answered` if it connected, else `outcome`.
    func ended(_ kind: CallRecord.Kind, _ callID: String, ifNeverConnected outcome: CallRecord.Outcome) -> Notice? {
        attempt { () throws(DeviceStoreError) in try store.callEnded(kind, callID, ifNeverConnected: outcome) }
    }

    private func attempt(_ write: () throws(DeviceStoreError) -> Void) -> Notice? {
        do throws(DeviceStoreError) {
            try write()
            return nil
        } catch {
            return .warning(.history, "this call is missing from the history: \(error)")
        }
    }
}
