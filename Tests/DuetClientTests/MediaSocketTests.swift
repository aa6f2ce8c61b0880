import DuetWire
import Foundation
import Synchronization
import Testing

@testable import DuetClient

@Suite("Media socket")
struct MediaSocketTests {
    /// Found measuring call setup across namespaces: a STUN answer that came while gathering
    /// had let go of the socket and the engine had not yet taken it was dropped, and the call
    /// waited 200 ms for the Binding to be resent. Held datagrams reach the next handler.
    @Test func whatArrivesBetweenHandlersReachesTheNextOneBounded() async throws {
        let receiver = try await MediaSocket.bind()
        let sender = try await MediaSocket.bind()
        defer {
            receiver.close()
            sender.close()
        }
        let target = TransportAddress(ip: [127, 0, 0, 1], port: receiver.localAddress.port)
        for index in 0..<12 { sender.send([UInt8(index)], to: target) }
        sender.send([UInt8](repeating: 0xEE, count: 1600), to: target)  // too large to hold
        try await Task.sleep(for: .milliseconds(200))
        let received = Mutex<[[UInt8]]>([])
        receiver.setHandler { datagram in received.withLock { $0.append(datagram.bytes) } }
        #expect(received.withLock { $0 } == (4..<12).map { [UInt8($0)] }, "the last eight, in order, and nothing large")
        sender.send([99], to: target)
        for _ in 0..<100 where received.withLock({ $0.count }) < 9 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(received.withLock { $0.last } == [99])
    }
}
