import DuetCrypto
import DuetMedia

/// SFrame's cost, and the whole group-call frame path (SFrame encrypt, SRTP protect,
/// SRTP unprotect, SFrame decrypt) against bare SRTP alone: end-to-end encryption on top of
/// hop-by-hop SRTP should at most double the per-frame crypto cost.
enum SFrameBench {
    static func run(report: BenchReport) {
        let frame = [UInt8](repeating: 0x5A, count: SRTPBench.payloadLength)
        let key = SecureBytes(randomCount: 32)
        let sender = try! SFrameSender()
        try! sender.setKey(key, keyID: 1)
        let receiver = try! SFrameReceiver()
        try! receiver.addKey(key, keyID: 1)
        let sframeOnly = {
            let plain = try! receiver.decrypt(try! sender.encrypt(frame))
            precondition(plain.payload.count == frame.count)
        }

        let e2eSender = try! SFrameSender()
        try! e2eSender.setKey(key, keyID: 2)
        // Its own receiver: one shared with KID 1 would retire KID 1 two seconds after the
        // first KID 2 frame (the rekey overlap), and a slow run outlasts that.
        let e2eReceiver = try! SFrameReceiver()
        try! e2eReceiver.addKey(key, keyID: 2)
        let srtp = WrappedSRTP(profile: .aesCM128HMACSHA1_80)
        var header = Array(SRTPBench.template().prefix(12))
        var sequence: UInt16 = 0
        var packet: [UInt8] = []
        packet.reserveCapacity(512)
        let e2e = {
            let ciphertext = try! e2eSender.encrypt(frame)
            sequence &+= 1
            header[2] = UInt8(sequence >> 8)
            header[3] = UInt8(sequence & 0xFF)
            packet.removeAll(keepingCapacity: true)
            packet.append(contentsOf: header)
            packet.append(contentsOf: ciphertext)
            try! srtp.sender.protect(inPlace: &packet)
            try! srtp.receiver.unprotect(inPlace: &packet)
            let plain = try! e2eReceiver.decrypt(Array(packet[12...]))
            precondition(plain.payload.count == frame.count)
        }
        let bare = BareSRTP(profile: .aesCM128HMACSHA1_80)

        let rounds = Timing().run([sframeOnly, e2e, bare.roundTrip])
        report.figure("sframe_encrypt_decrypt_ns", Timing.median(rounds, 0), unit: "ns")
        report.figure("e2e_frame_path_ns", Timing.median(rounds, 1), unit: "ns")
        report.figure("e2e_frame_path_vs_srtp", Timing.medianRatio(rounds, 1, 2), unit: "ratio")
    }
}
