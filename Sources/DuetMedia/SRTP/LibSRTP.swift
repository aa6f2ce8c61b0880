import CSRTP

/// The one place libsrtp2 is initialised and its status codes become `SRTPError`s.
enum LibSRTP {
    /// `srtp_init` must run once per process before any session; a static let is initialised
    /// exactly once even when sessions are created on several threads at the same time.
    private static let initStatus: UInt32 = srtp_init().rawValue

    static func ready() throws(SRTPError) {
        guard initStatus == srtp_err_status_ok.rawValue else {
            throw .library(operation: "srtp_init", code: Int32(bitPattern: initStatus))
        }
    }

    static func check(_ status: srtp_err_status_t, _ operation: String) throws(SRTPError) {
        switch status {
        case srtp_err_status_ok: return
        case srtp_err_status_auth_fail: throw .authenticationFailed
        case srtp_err_status_replay_fail: throw .replay(tooOld: false)
        case srtp_err_status_replay_old: throw .replay(tooOld: true)
        default: throw .library(operation: operation, code: Int32(bitPattern: status.rawValue))
        }
    }
}
