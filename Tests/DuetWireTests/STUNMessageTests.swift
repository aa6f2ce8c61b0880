import DuetFuzzing
import Foundation
import Testing

@testable import DuetWire

@Suite("STUN messages (RFC 8489, RFC 5769 vectors)")
struct STUNMessageTests {
    static let password = "VOkJxbRl1RmTxUk/WvJxBt"

    /// RFC 5769 §2.1 sample request.
    static let sampleRequest: [UInt8] = [UInt8](
        hex: """
            000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74
            002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020
            000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf
            """)
    /// RFC 5769 §2.2 sample IPv4 response.
    static let sampleResponse: [UInt8] = [UInt8](
        hex: """
            0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220
            00200008 0001a147e112a643 000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7
            80280004c07d4c96
            """)

    /// HMAC-SHA1 from the openssl command line: DuetWire has no crypto, and libsodium has
    /// no SHA-1, so the test brings its own independent implementation.
    static func hmacSHA1(key: String) -> @Sendable ([UInt8]) -> [UInt8] {
        { data in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("stun-\(UUID().uuidString)")
            try! Data(data).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["mac", "-digest", "SHA1", "-macopt", "key:\(key)", "-in", file.path, "HMAC"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try! process.run()
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return [UInt8](hex: String(decoding: out, as: UTF8.self).lowercased())
        }
    }

    @Test func sampleRequestParsesWithItsFingerprintAndIntegrity() throws {
        let message = try STUNMessage(parsing: Self.sampleRequest)
        #expect(message.method == .binding)
        #expect(message.messageClass == .request)
        #expect(message.text(.software) == "STUN test client")
        #expect(message.text(.username) == "evtj:h6vY")
        #expect(message.uint32(.priority) == 0x6E00_01FF)
        #expect(message.first(.iceControlled) == [UInt8](hex: "932ff9b151263b36"))
        try STUNMessage.verifyIntegrity(of: Self.sampleRequest, STUNIntegrity(kind: .sha1, hmac: Self.hmacSHA1(key: Self.password)))
        #expect(throws: STUNError.integrityMismatch) {
            try STUNMessage.verifyIntegrity(of: Self.sampleRequest, STUNIntegrity(kind: .sha1, hmac: Self.hmacSHA1(key: "wrong")))
        }
    }

    @Test func sampleResponseCarriesTheMappedAddress() throws {
        let message = try STUNMessage(parsing: Self.sampleResponse)
        #expect(message.messageClass == .success)
        #expect(try message.address(.xorMappedAddress) == TransportAddress(ipv4: "192.0.2.1", port: 32853))
        try STUNMessage.verifyIntegrity(of: Self.sampleResponse, STUNIntegrity(kind: .sha1, hmac: Self.hmacSHA1(key: Self.password)))
    }

    @Test func encodingRoundTripsWithIntegrityAndFingerprint() throws {
        var rng = SystemRandomNumberGenerator()
        let tid = STUNMessage.randomTransactionID(using: &rng)
        var message = STUNMessage(
            method: .allocate, messageClass: .request, transactionID: tid,
            attributes: [.requestedTransportUDP, .text(.username, "alice"), .uint32(.lifetime, 600)])
        message.attributes.append(
            message.xorAddress(
                .xorPeerAddress, TransportAddress(ip: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 7, count: 12), port: 4242)))
        let integrity = STUNIntegrity(kind: .sha1, hmac: Self.hmacSHA1(key: "secret"))
        let wire = message.encoded(integrity: integrity, fingerprint: true)
        let parsed = try STUNMessage(parsing: wire)
        #expect(parsed.method == .allocate && parsed.transactionID == tid)
        #expect(parsed.uint32(.lifetime) == 600)
        #expect(try parsed.address(.xorPeerAddress)?.port == 4242)
        try STUNMessage.verifyIntegrity(of: wire, integrity)
        // Every method/class pair survives the bit interleaving.
        for method in [STUNMessage.Method.binding, .allocate, .refresh, .send, .data, .createPermission, .channelBind] {
            for cls in [STUNMessage.Class.request, .indication, .success, .error] {
                let m = try STUNMessage(parsing: STUNMessage(method: method, messageClass: cls, transactionID: tid).encoded())
                #expect(m.method == method && m.messageClass == cls)
            }
        }
    }

    /// RFC 8489 §14.5: someone on the path appends a LIFETIME (and another MESSAGE-INTEGRITY)
    /// after the message's MESSAGE-INTEGRITY. The integrity still verifies — the MAC covers only
    /// what comes before it — so what follows must not be acted on: it is not in the parsed
    /// message, while a FINGERPRINT after it still is.
    @Test func attributesAfterMessageIntegrityAreIgnored() throws {
        let integrity = STUNIntegrity(kind: .sha1, hmac: Self.hmacSHA1(key: "secret"))
        let message = STUNMessage(
            method: .refresh, messageClass: .request, transactionID: Array(repeating: 7, count: 12),
            attributes: [.text(.username, "alice")])
        var wire = message.encoded(integrity: integrity)
        STUNAttribute.uint32(.lifetime, 0).append(to: &wire)
        STUNAttribute(.messageIntegrity, Array(repeating: 0, count: 20)).append(to: &wire)
        wire[2] = UInt8((wire.count - 20) >> 8)
        wire[3] = UInt8((wire.count - 20) & 0xff)
        try STUNMessage.verifyIntegrity(of: wire, integrity)
        let parsed = try STUNMessage(parsing: wire)
        #expect(parsed.first(.lifetime) == nil, "an attribute after MESSAGE-INTEGRITY was kept")
        #expect(parsed.attributes.filter { $0.type == STUNAttribute.Kind.messageIntegrity.rawValue }.count == 1)
        #expect(parsed.text(.username) == "alice")
        let fingerprinted = try STUNMessage(parsing: message.encoded(integrity: integrity, fingerprint: true))
        #expect(fingerprinted.first(.fingerprint) != nil)
    }

    @Test func anyFlippedBitIsCaughtByFingerprintOrIntegrity() throws {
        let integrity = STUNIntegrity(kind: .sha1, hmac: Self.hmacSHA1(key: Self.password))
        for bit in stride(from: 20 * 8, to: (Self.sampleRequest.count - 8) * 8, by: 37) {
            var bytes = Self.sampleRequest
            bytes[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: STUNError.self) {
                _ = try STUNMessage(parsing: bytes)
                try STUNMessage.verifyIntegrity(of: bytes, integrity)
            }
        }
    }

    @Test func errorCodeAndChannelDataRoundTrip() throws {
        let m = STUNMessage(
            method: .allocate, messageClass: .error, transactionID: [UInt8](repeating: 1, count: 12),
            attributes: [.errorCode(401, reason: "Unauthorized")])
        #expect(try STUNMessage(parsing: m.encoded()).errorCode?.code == 401)
        let data = ChannelData(channel: 0x4001, payload: [1, 2, 3])
        #expect(try ChannelData(parsing: data.encoded) == data)
        #expect(try ChannelData(parsing: data.encoded + [0]) == data)  // padding allowed
        #expect(throws: STUNError.self) { try ChannelData(parsing: [0x40, 0x01, 0x00, 0x09, 1]) }
        #expect(throws: STUNError.self) { try ChannelData(parsing: [0x30, 0x01, 0x00, 0x00]) }
    }

    @Test func demultiplexesByFirstByte() {
        #expect(MediaPacketKind(datagram: Self.sampleRequest) == .stun)
        #expect(MediaPacketKind(firstByte: 22) == .dtls)
        #expect(MediaPacketKind(firstByte: 0x40) == .turnChannel)
        #expect(MediaPacketKind(firstByte: 0x80) == .rtp)
        #expect(MediaPacketKind(firstByte: 200) == .unknown)
        #expect(MediaPacketKind(datagram: [UInt8]()) == .unknown)
    }
}
