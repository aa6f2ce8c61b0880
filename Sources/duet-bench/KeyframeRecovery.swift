import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// `keyframe_recovery_ms`: after an outage, how long from the first packet that comes back
/// (the receiver finds it cannot decode, and asks for a keyframe: PLI) to the first picture
/// shown again. A 160×120, 15 fps stream between a `VideoSender` and a `VideoReceiver` on the
/// real clock, through SRTP, feedback carried back at once (a round trip of about nothing,
/// so the bound is two frame intervals); three outages of half a second, the median.
enum KeyframeRecovery {
    struct Result {
        var milliseconds: Double
        /// Two frame intervals plus the round trip (none here).
        var boundMilliseconds: Double
    }

    static let outages = 3
    static let framesPerSecond = 15
    /// Frames lost in each outage, and frames flowing between outages.
    static let lostFrames = 8
    static let cleanFrames = 15

    static func measure() throws -> Result {
        let key = SecureBytes(randomCount: SRTPProfile.aesCM128HMACSHA1_80.keyingMaterialLength)
        let protect = try SRTPSession(role: .sender, masterKey: key)
        let unprotect = try SRTPSession(role: .receiver, masterKey: key)
        var sender = try VideoSender(camera: SyntheticCamera(person: "+15550001"), ssrc: 0x0D0E_7003)
        var receiver = try VideoReceiver(media: 0x0D0E_7003, ssrc: 0x0D0E_7004, people: ["+15550001"])
        let start = ContinuousClock.now
        func seconds() -> Double { (ContinuousClock.now - start).inSeconds }
        func deliver(_ packets: [[UInt8]]) throws -> Bool {
            var shown = false
            for packet in packets {
                let plain = try RTPPacket(parsing: try unprotect.unprotect(packet))
                shown = receiver.receive(plain, at: seconds()) || shown
            }
            return shown
        }
        var recoveries: [Double] = []
        var waitingSince: Double?
        let cycle = lostFrames + cleanFrames
        for index in 0..<(cleanFrames + outages * cycle) {
            Thread.sleep(until: Date(timeIntervalSinceNow: 0) + max(0, Double(index) / Double(framesPerSecond) - seconds()))
            let packets = try sender.nextPicture(index: index, stampMilliseconds: index * 66, srtp: protect)
            let phase = (index - cleanFrames) % cycle
            if index >= cleanFrames, phase < lostFrames { continue }  // the outage: nothing arrives
            if index >= cleanFrames, phase == lostFrames { waitingSince = seconds() }
            var shown = try deliver(packets)
            // Feedback (NACK, PLI) back to the sender at once; what it sends again, delivered.
            for feedback in receiver.feedback(at: seconds()) { shown = try deliver(try sender.handle(feedback, at: seconds())) || shown }
            if shown, let since = waitingSince {
                recoveries.append((seconds() - since) * 1000)
                waitingSince = nil
            }
        }
        guard recoveries.count == outages else { throw RecoveryFailed(recovered: recoveries.count) }
        return Result(milliseconds: Timing.median(recoveries), boundMilliseconds: 2000 / Double(framesPerSecond))
    }

    struct RecoveryFailed: Error, CustomStringConvertible {
        var recovered: Int
        var description: String { "the picture came back after \(recovered) of \(KeyframeRecovery.outages) outages" }
    }
}
