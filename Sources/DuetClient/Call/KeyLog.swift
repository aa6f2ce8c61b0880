import DuetCrypto
import Foundation

/// `DUET_SRTP_KEYLOG=FILE`: appends one line per SRTP stream (SSRC, direction, profile,
/// base64 master key ‖ salt as in SDP a=crypto), as SSLKEYLOGFILE does for TLS, so a capture
/// can be decrypted for debugging. Off by default; when on, the call is not private and the
/// engine says so.
enum KeyLog {
    static func record(to path: String?, callID: String, keys: CallKeys, isCaller: Bool, localSSRC: UInt32, remoteSSRC: UInt32,
                       warn: (String) -> Void) {
        guard let path else { return }
        let send = isCaller ? keys.callerToCallee : keys.calleeToCaller
        let receive = isCaller ? keys.calleeToCaller : keys.callerToCallee
        var lines = ""
        for (ssrc, direction, key) in [(localSSRC, "send", send), (remoteSSRC, "receive", receive)] {
            let base64 = key.withUnsafeBytes { Data($0).base64EncodedString() }
            lines += "\(callID) ssrc=\(ssrc) \(direction) AES_CM_128_HMAC_SHA1_80 inline:\(base64)\n"
        }
        let url = URL(fileURLWithPath: path)
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let handle = try? FileHandle(forWritingTo: url) else {
            warn("DUET_SRTP_KEYLOG is set but \(path) cannot be written")
            return
        }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data(lines.utf8))
        warn("DUET_SRTP_KEYLOG is set: this call's media keys are written to \(path); the call is NOT private")
    }
}
