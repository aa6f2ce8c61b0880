import DuetCrypto
import Foundation
import Glibc

/// `DUET_SRTP_KEYLOG=FILE`: appends one line per SRTP stream (SSRC, direction, profile,
/// base64 master key ‖ salt as in SDP a=crypto; video lines end in "video"), as SSLKEYLOGFILE
/// does for TLS, so a capture can be decrypted for debugging. Off by default; when on, the call is not private: this
/// device says so, and tells the other device, which says so too (`CallOffer.logsKeys`).
///
/// The file is opened without following a symlink and is written only if it is a regular file
/// of this user's that nobody else can read (a new one is made 0600): a link or a shared file
/// planted at the path would otherwise receive the keys.
enum KeyLog {
    /// Why the keys were not written (the call then stays private).
    enum Failure: Error, Equatable, CustomStringConvertible {
        case cannotOpen(path: String, errno: Int32)
        case unsafe(path: String, reason: String)

        var description: String {
            switch self {
            case let .cannotOpen(path, code):
                "DUET_SRTP_KEYLOG: \(path) cannot be opened (\(String(cString: strerror(code))), a symlink is refused); no keys were written"
            case let .unsafe(path, reason): "DUET_SRTP_KEYLOG: \(path) \(reason); no keys were written"
            }
        }
    }

    static func record(
        to path: String, callID: String, keys: CallKeys, isCaller: Bool, localSSRC: UInt32,
        remoteSSRC: UInt32
    ) throws(Failure) {
        let send = isCaller ? keys.callerToCallee : keys.calleeToCaller
        let receive = isCaller ? keys.calleeToCaller : keys.callerToCallee
        var lines = ""
        // Video rides the same keys on the SSRC after each audio one (`VideoMedia`).
        let streams = [
            (localSSRC, "send", send, ""), (remoteSSRC, "receive", receive, ""),
            (VideoMedia.ssrc(forAudio: localSSRC), "send", send, " video"),
            (VideoMedia.ssrc(forAudio: remoteSSRC), "receive", receive, " video")
        ]
        for (ssrc, direction, key, kind) in streams {
            let base64 = key.withUnsafeBytes { Data($0).base64EncodedString() }
            lines += "\(callID) ssrc=\(ssrc) \(direction) AES_CM_128_HMAC_SHA1_80 inline:\(base64)\(kind)\n"
        }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw .unsafe(path: path, reason: "is not a regular file")
        }
        guard status.st_uid == geteuid() else { throw .unsafe(path: path, reason: "belongs to another user") }
        guard status.st_mode & 0o077 == 0 else { throw .unsafe(path: path, reason: "can be read by others (make it chmod 600)") }
        let bytes = Array(lines.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw .cannotOpen(path: path, errno: errno) }
    }
}
