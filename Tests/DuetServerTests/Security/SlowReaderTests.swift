import DuetClient
import DuetCrypto
import DuetWire
import Foundation
import Testing

@testable import DuetServer

/// A client that asks and never reads the answers must not make the server hold its answers:
/// its reply queue is bounded, it is disconnected, and everyone else keeps being served.
@Suite("A client that does not read")
struct SlowReaderTests {
    static let pings = 100_000
    static let pingsPerWrite = 1_000

    @Test func aClientSendingAHundredThousandPingsWithoutReadingIsDisconnectedAndHoldsABoundedQueue() async throws {
        let server = try await TestServer.start()
        let limit = SignalingLimits().outboxBytes
        let (bystander, _) = try await TestDevice().connect(to: server)
        // A small receive buffer: what the server sends piles up on its side, not in this socket.
        let flooder = try await RawClient(server.address, receiveBuffer: 4096)
        guard case .authenticated? = try await flooder.authenticate(as: .generate(), fingerprint: server.fingerprint)?.message else {
            Issue.record("expected authenticated")
            return
        }
        let residentBefore = try ResidentMemory.bytes()

        var sent = 0
        var nextID: UInt32 = 2
        sending: while sent < Self.pings {
            var batch: [UInt8] = []
            for _ in 0..<Self.pingsPerWrite {
                batch += try FrameDecoder.frame(SignalingCodec.encode(ClientRequest(id: nextID, message: .ping)))
                nextID += 1
            }
            do { try await flooder.sendRaw(batch) } catch { break sending }  // the server hung up
            sent += Self.pingsPerWrite
            if sent % 10_000 == 0 { try await bystander.ping() }  // others are served meanwhile
        }

        // Reading now: a server that kept the connection would answer every ping.
        var pongs = 0
        while pongs < sent, let frame = try await flooder.receive() {
            if case .pong = frame.message { pongs += 1 }
        }
        #expect(pongs < sent, "the server answered all \(sent) pings instead of disconnecting a client that did not read")
        let peak = await eventually(timeout: .seconds(10)) { server.app.outboxMeter.peakBytes > 0 } ? server.app.outboxMeter.peakBytes : 0
        #expect(peak > 0 && peak <= limit, "the largest reply queue held \(peak) bytes; the limit is \(limit)")
        let residentAfter = try ResidentMemory.bytes()
        // A loose guard against a gross leak only: this is the whole test process (client and
        // server, after every suite before it), and its growth here varied from 22 to 58 MiB
        // between runs. The exact bound is the queue's, checked above.
        if Sanitizer.measuresResidentMemory {
            #expect(residentAfter - residentBefore < 128 << 20, "resident memory grew by \(residentAfter - residentBefore) bytes")
        }
        print(
            "slow reader: \(sent) pings sent, \(pongs) pongs read, largest queue \(peak) bytes (limit \(limit)); "
                + "resident \(residentBefore >> 20) MiB before, \(residentAfter >> 20) MiB after")

        try await bystander.ping()
        flooder.close()
        await bystander.close()
        try await server.stop()
    }
}

/// This process's resident set size, from /proc/self/statm (the server runs in the test process).
enum ResidentMemory {
    struct Unreadable: Error {}

    static func bytes() throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { throw Unreadable() }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
