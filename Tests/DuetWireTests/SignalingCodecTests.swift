import DuetWire
import Foundation
import Testing

@Suite("Signaling messages")
struct SignalingCodecTests {
    @Test func requestsRoundTripWithTypeAndID() throws {
        let request = ClientRequest(
            id: 42,
            message: .register(
                .init(
                    number: "+15551234", name: "Ada", invite: nil,
                    signedPrekey: .init(id: 1, publicKey: Base64Bytes([1, 2, 3]), createdAt: 1_700_000_000, signature: Base64Bytes([4, 5])),
                    oneTimePrekeys: [.init(id: 7, publicKey: Base64Bytes([9]))])))
        let bytes = SignalingCodec.encode(request)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(json["type"] as? String == "register")
        #expect(json["id"] as? Int == 42)
        #expect((json["signedPrekey"] as? [String: Any])?["publicKey"] as? String == "AQID")
        #expect(try SignalingCodec.decodeClientRequest(bytes) == request)
    }

    @Test func eventsRoundTripWithoutID() throws {
        let frame = ServerFrame(id: nil, message: .keyChanged(.init(number: "+1", newIdentityKey: Base64Bytes([0xff]))))
        #expect(try SignalingCodec.decodeServerFrame(SignalingCodec.encode(frame)) == frame)
        let pong = ServerFrame(id: 3, message: .pong)
        #expect(try SignalingCodec.decodeServerFrame(SignalingCodec.encode(pong)) == pong)
    }

    @Test func callMessagesRoundTripWithTheirFieldNames() throws {
        let signal = ClientRequest(
            id: 8, message: .callSignal(.init(to: "+15550002", callID: "c-1", kind: "invite", payload: Base64Bytes([1, 2, 3]))))
        let bytes = SignalingCodec.encode(signal)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(json["type"] as? String == "callSignal")
        #expect(json["to"] as? String == "+15550002")
        #expect(json["payload"] as? String == "AQID")
        #expect(try SignalingCodec.decodeClientRequest(bytes) == signal)
        let ask = ClientRequest(id: 9, message: .relayCredentials(.init(callID: "c-1")))
        #expect(try SignalingCodec.decodeClientRequest(SignalingCodec.encode(ask)) == ask)

        let frames: [ServerFrame] = [
            ServerFrame(id: 8, message: .callSignalSent),
            ServerFrame(id: nil, message: .callSignal(.init(from: "+15550001", callID: "c-1", kind: "answer", payload: Base64Bytes([7])))),
            ServerFrame(
                id: 9,
                message: .relayCredentials(
                    .init(
                        username: "1700000600:c-1:+15550001", password: "pw", realm: "duet",
                        ttlSeconds: 600, relay: "127.0.0.1:7401")))
        ]
        for frame in frames { #expect(try SignalingCodec.decodeServerFrame(SignalingCodec.encode(frame)) == frame) }
        // Logs never see the relay password.
        if case let .relayCredentials(credentials) = frames[2].message { #expect(!"\(credentials)".contains("pw")) }
    }

    @Test func groupMessagesRoundTrip() throws {
        let fingerprint = "AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB"
        let requests: [ClientRequest] = [
            ClientRequest(id: 1, message: .createGroup(.init(name: "Team", members: ["+15550002"]))),
            ClientRequest(id: 2, message: .addGroupMember(.init(group: "g12345678", number: "+15550003"))),
            ClientRequest(id: 3, message: .removeGroupMember(.init(group: "g12345678", number: "+15550003"))),
            ClientRequest(id: 4, message: .listGroups),
            ClientRequest(id: 5, message: .startGroupCall(.init(group: "g12345678", callID: "gc-1"))),
            ClientRequest(id: 6, message: .joinGroupCall(.init(callID: "gc-1"))),
            ClientRequest(id: 7, message: .leaveGroupCall(.init(callID: "gc-1"))),
            ClientRequest(id: 8, message: .startGroupCall(.init(group: "g12345678", callID: "gc-2", dtlsFingerprint: fingerprint))),
            ClientRequest(id: 9, message: .joinGroupCall(.init(callID: "gc-2", dtlsFingerprint: fingerprint)))
        ]
        for request in requests { #expect(try SignalingCodec.decodeClientRequest(SignalingCodec.encode(request)) == request) }
        let team = Signaling.Group(id: "g12345678", name: "Team", owner: "+15550001", members: ["+15550001", "+15550002"])
        let frames: [ServerFrame] = [
            ServerFrame(id: 1, message: .group(team)),
            ServerFrame(id: 4, message: .groupList(.init(groups: [team]))),
            ServerFrame(id: nil, message: .groupChanged(.init(group: team, added: ["+15550002"], removed: [], by: "+15550001"))),
            ServerFrame(id: 5, message: .groupCall(.init(callID: "gc-1", group: team, participants: ["+15550001"]))),
            ServerFrame(
                id: 8,
                message: .groupCall(
                    .init(
                        callID: "gc-2", group: team, participants: ["+15550001"],
                        media: "127.0.0.1:3478", mediaFingerprint: fingerprint))),
            ServerFrame(
                id: nil,
                message: .groupCallChanged(
                    .init(
                        call: .init(callID: "gc-1", group: team, participants: []),
                        joined: [], left: ["+15550001"])))
        ]
        for frame in frames { #expect(try SignalingCodec.decodeServerFrame(SignalingCodec.encode(frame)) == frame) }
        // Older peers' messages, without the media fields, still decode; absent fields are not sent.
        let old = try SignalingCodec.decodeClientRequest(Array(#"{"type":"joinGroupCall","id":6,"callID":"gc-1"}"#.utf8))
        #expect(old == ClientRequest(id: 6, message: .joinGroupCall(.init(callID: "gc-1"))))
        let bare = String(decoding: SignalingCodec.encode(frames[3]), as: UTF8.self)
        #expect(!bare.contains("media"))
        #expect(Signaling.isValidGroupName("Team ✓"))
        #expect(!Signaling.isValidGroupName(" "))
        #expect(!Signaling.isValidGroupName("a\u{202E}b"))
    }

    @Test func callTokensAreShortAndColonFree() {
        #expect(Signaling.isValidToken("3F2504E0-4F89-11D3-9A0C-0305E82C3301"))
        #expect(Signaling.isValidToken("hang_up"))
        #expect(!Signaling.isValidToken(""))
        #expect(!Signaling.isValidToken("a:b"))
        #expect(!Signaling.isValidToken("café"))
        #expect(!Signaling.isValidToken(String(repeating: "x", count: Signaling.maximumTokenLength + 1)))
    }

    @Test func decodingErrorsAreTyped() {
        func error(_ text: String) -> SignalingDecodingError? {
            do {
                _ = try SignalingCodec.decodeClientRequest(Array(text.utf8))
                return nil
            } catch { return error }
        }
        #expect(error("{oops") == .invalidJSON)
        #expect(error("[1,2]") == .invalidJSON)
        #expect(error(#"{"id":4}"#) == .missingType(id: 4))
        #expect(error(#"{"type":"dance","id":5}"#) == .unknownType("dance", id: 5))
        #expect(error(#"{"type":"lookup","id":6}"#)?.code == .invalidMessage)
        #expect(error(#"{"type":"lookup","id":6}"#)?.id == 6)
        #expect(error(#"{"type":"authenticate","identityKey":"***","signature":"AA=="}"#)?.code == .invalidMessage)
    }

    @Test func numbersAndFingerprints() throws {
        #expect(PhoneNumber.isValid("+15551234567"))
        #expect(!PhoneNumber.isValid("15551234567"))
        #expect(!PhoneNumber.isValid("+"))
        #expect(!PhoneNumber.isValid("+1234567890123456"))
        #expect(!PhoneNumber.isValid("+1 555"))
        let fingerprint = try #require(CertificateFingerprint(digest: Array(0..<32)))
        #expect(fingerprint.description.hasPrefix("00:01:02:03"))
        #expect(try CertificateFingerprint(parsing: fingerprint.description.lowercased()) == fingerprint)
        #expect(
            try CertificateFingerprint(parsing: "SHA256:" + fingerprint.description.replacingOccurrences(of: ":", with: "")) == fingerprint)
        #expect(throws: CertificateFingerprint.ParseError.self) { try CertificateFingerprint(parsing: "AB:CD") }
    }
}
