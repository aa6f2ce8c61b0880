import DuetWire

/// One valid message of every signaling type, as the real encoder writes them: the seeds the
/// signaling fuzz tests mutate, so mutations start from messages that decode.
enum SignalingSamples {
    static let key = Base64Bytes(Array(0..<32))
    static let fingerprint = (0..<32).map { _ in "AB" }.joined(separator: ":")
    static let signedPrekey = Signaling.SignedPrekey(id: 1, publicKey: key, createdAt: 1_700_000_000, signature: Base64Bytes(Array(0..<64)))
    static let oneTimePrekeys = (1...3).map { Signaling.OneTimePrekey(id: UInt32($0), publicKey: key) }
    static let group = Signaling.Group(id: "g12345678", name: "Team ✓", owner: "+15550001", members: ["+15550001", "+15550002"])
    static let groupCall = Signaling.GroupCall(
        callID: "gc-1", group: group, participants: ["+15550001"], media: "127.0.0.1:3478",
        mediaFingerprint: fingerprint, version: 3)
    static let meeting = Signaling.Meeting(
        code: "abc-defg-hij", host: "+15550001", open: false,
        participants: [.init(id: "+15550001", name: "Alice", guest: false, ssrc: 0xDEAD_BEEF)],
        knocking: [.init(id: "guest-1", name: "Visitor \"V\" \\ \u{1F600}", guest: true)],
        recording: true, media: "[::1]:3478", mediaFingerprint: fingerprint, you: "+15550001")

    /// Every `ClientMessage` case.
    static let requests: [ClientRequest] = [
        ClientRequest(id: 1, message: .authenticate(.init(identityKey: key, signature: Base64Bytes(Array(0..<64))))),
        ClientRequest(
            id: 2,
            message: .register(
                .init(
                    number: "+15551234", name: "Ada", invite: "inv-1",
                    signedPrekey: signedPrekey, oneTimePrekeys: oneTimePrekeys))),
        ClientRequest(id: 3, message: .uploadPrekeys(.init(signedPrekey: signedPrekey, oneTimePrekeys: oneTimePrekeys))),
        ClientRequest(id: 4, message: .fetchBundle(.init(number: "+15550002"))),
        ClientRequest(id: 5, message: .lookup(.init(number: "+15550002"))),
        ClientRequest(id: 6, message: .watch(.init(numbers: ["+15550002", "+15550003"]))),
        ClientRequest(id: 7, message: .unwatch(.init(numbers: ["+15550002"]))),
        ClientRequest(id: 8, message: .ping),
        ClientRequest(
            id: 9, message: .callSignal(.init(to: "+15550002", callID: "c-1", kind: "invite", payload: Base64Bytes(Array(0..<100))))),
        ClientRequest(
            id: 10,
            message: .callSignals(
                .init(
                    callID: "g-1", kind: "sender-key",
                    signals: [.init(to: "+15550002", payload: Base64Bytes([1, 2])), .init(to: "+15550003", payload: Base64Bytes([3]))]))),
        ClientRequest(id: 10, message: .relayCredentials(.init(callID: "c-1"))),
        ClientRequest(id: 11, message: .createGroup(.init(name: "Team", members: ["+15550002"]))),
        ClientRequest(id: 12, message: .addGroupMember(.init(group: "g12345678", number: "+15550003"))),
        ClientRequest(id: 13, message: .removeGroupMember(.init(group: "g12345678", number: "+15550003"))),
        ClientRequest(id: 14, message: .listGroups),
        ClientRequest(id: 22, message: .fetchBundles(.init(numbers: ["+15550002", "+15550003"]))),
        ClientRequest(id: 15, message: .startGroupCall(.init(group: "g12345678", callID: "gc-1", dtlsFingerprint: fingerprint))),
        ClientRequest(id: 16, message: .joinGroupCall(.init(callID: "gc-1", dtlsFingerprint: fingerprint))),
        ClientRequest(id: 17, message: .leaveGroupCall(.init(callID: "gc-1"))),
        ClientRequest(
            id: 18, message: .createMeeting(.init(open: true, record: false, name: "Alice", dtlsFingerprint: fingerprint, ssrc: 42))),
        ClientRequest(id: 19, message: .joinMeeting(.init(code: "abc-defg-hij", name: nil, dtlsFingerprint: fingerprint, ssrc: .max))),
        ClientRequest(id: 20, message: .leaveMeeting(.init(code: "abc-defg-hij"))),
        ClientRequest(id: 21, message: .admitToMeeting(.init(code: "abc-defg-hij", participant: "guest-1", admit: true))),
        ClientRequest(id: nil, message: .recordMeeting(.init(code: "abc-defg-hij", on: true)))
    ]

    /// Every `ServerMessage` case.
    static let frames: [ServerFrame] = [
        ServerFrame(id: nil, message: .challenge(.init(nonce: key))),
        ServerFrame(id: 1, message: .authenticated(.init(number: "+15550001"))),
        ServerFrame(id: 2, message: .registered(.init(number: "+15550001", oneTimePrekeyCount: 100))),
        ServerFrame(id: 3, message: .prekeyCount(.init(count: 19))),
        ServerFrame(
            id: 4,
            message: .bundle(.init(number: "+15550002", identityKey: key, signedPrekey: signedPrekey, oneTimePrekey: oneTimePrekeys[0]))),
        ServerFrame(
            id: 30,
            message: .bundles(
                .init(bundles: [.init(number: "+15550002", identityKey: key, signedPrekey: signedPrekey, oneTimePrekey: nil)]))),
        ServerFrame(id: 5, message: .lookupResult(.init(number: "+15550002", identityKey: key, online: true))),
        ServerFrame(id: 6, message: .presenceList(.init(presence: [.init(number: "+15550002", online: false)]))),
        ServerFrame(id: nil, message: .presence(.init(number: "+15550002", online: true))),
        ServerFrame(id: nil, message: .keyChanged(.init(number: "+15550002", newIdentityKey: key))),
        ServerFrame(id: nil, message: .prekeysLow(.init(remaining: 3))),
        ServerFrame(
            id: 7, message: .error(.init(code: .invalidMessage, message: "malformed \"lookup\" message: missing field \"number\""))),
        ServerFrame(id: 8, message: .pong),
        ServerFrame(id: 9, message: .callSignalSent),
        ServerFrame(
            id: 10,
            message: .callSignalsSent(
                .init(refused: [
                    .init(index: 1, to: "+15550003", error: .init(code: .unavailable, message: "+15550003 has no device online"))
                ]))),
        ServerFrame(id: nil, message: .callSignal(.init(from: "+15550001", callID: "c-1", kind: "answer", payload: Base64Bytes([7])))),
        ServerFrame(
            id: 10,
            message: .relayCredentials(
                .init(
                    username: "1700000600:c-1:+15550001", password: "pw", realm: "duet",
                    ttlSeconds: 600, relay: "127.0.0.1:7401"))),
        ServerFrame(id: 11, message: .group(group)),
        ServerFrame(id: 12, message: .groupList(.init(groups: [group, group]))),
        ServerFrame(id: nil, message: .groupChanged(.init(group: group, added: ["+15550002"], removed: [], by: "+15550001"))),
        ServerFrame(id: 13, message: .groupCall(groupCall)),
        ServerFrame(id: nil, message: .groupCallChanged(.init(call: groupCall, joined: ["+15550002"], left: []))),
        ServerFrame(id: 14, message: .meeting(meeting)),
        ServerFrame(id: 15, message: .meetingWaiting(.init(code: "abc-defg-hij"))),
        ServerFrame(id: nil, message: .meetingChanged(.init(meeting: meeting, joined: ["guest-1"], left: []))),
        ServerFrame(id: nil, message: .meetingAdmitted(meeting)),
        ServerFrame(id: nil, message: .meetingClosed(.init(code: "abc-defg-hij", reason: "the host left")))
    ]

    static let requestBodies = requests.map(SignalingCodec.encode)
    static let frameBodies = frames.map(SignalingCodec.encode)
}
