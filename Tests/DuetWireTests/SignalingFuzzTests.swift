import DuetFuzzing
import DuetWire
import Testing

/// The signaling port reads whatever a TCP peer sends: the frame decoder cuts it into frames
/// and the codec reads each as JSON. Mutated streams and messages, starting from one valid
/// message of every type, must end in frames and messages or in the codec's typed errors —
/// never a trap — and whatever decodes must encode and decode back to itself (docs/server.md "Wire protocol").
@Suite("Signaling fuzz")
struct SignalingFuzzTests {
    static let types = SignalingSamples.requests.map(\.message.type) + SignalingSamples.frames.map(\.message.type)

    @Test func validMessagesRoundTrip() throws {
        for request in SignalingSamples.requests {
            #expect(try SignalingCodec.decodeClientRequest(SignalingCodec.encode(request)) == request)
        }
        for frame in SignalingSamples.frames {
            #expect(try SignalingCodec.decodeServerFrame(SignalingCodec.encode(frame)) == frame)
        }
    }

    /// The largest frame a peer may send, nested as deep as it goes, and other shapes a
    /// mutator rarely builds: refused with a typed error, not a stack overflow.
    @Test func pathologicalFramesAreRefused() throws {
        let limit = FrameDecoder.maximumFrameLength
        let bodies: [[UInt8]] = [
            Array(repeating: UInt8(ascii: "["), count: limit),
            Array(String(repeating: #"{"a":"#, count: limit / 5).utf8),
            Array(#"{"type":"ping","id":"#.utf8) + Array(repeating: UInt8(ascii: "9"), count: limit - 40) + Array("}".utf8),
            Array(#"{"type":"watch","id":1,"numbers":["#.utf8) + Array(String(repeating: #""+1","#, count: limit / 6 - 10).utf8)
                + Array(#""+1"]}"#.utf8),
            Array(#"{"type":"ping","id":1,"type":"lookup"}"#.utf8),
            Array("{\"type\":\"p\u{0}ing\"}".utf8),
            [0xEF, 0xBB, 0xBF] + Array(#"{"type":"ping"}"#.utf8),
            Array(#"{"type":"ping","id":4294967296}"#.utf8),
            Array(#"{"type":"\ud800","id":1}"#.utf8)
        ]
        for body in bodies {
            _ = try Self.checkRequest(body)
            _ = try Self.checkFrame(body)
        }
    }

    /// Byte mutations and JSON-tree mutations of every message, read as a request and as a
    /// server frame.
    @Test func mutatedMessagesDecodeOrFailTyped() {
        let samples = SignalingSamples.requestBodies + SignalingSamples.frameBodies
        let mutator = Mutator()
        let report = FuzzTarget("signaling messages", defaultIterations: 3000).run(
            { random in
                let sample = samples.randomElement(using: &random)!
                return Bool.random(using: &random)
                    ? JSONMutator.mutate(sample, types: Self.types, using: &random)
                    : mutator.mutate(samples, using: &random)
            },
            property: { input, _ in
                let asRequest = try Self.checkRequest(input), asFrame = try Self.checkFrame(input)
                return asRequest || asFrame ? .accepted : .rejected
            })
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    /// A byte stream of framed messages, mutated as a whole (length prefixes lie, frames are
    /// cut and spliced) and fed in chunks of random sizes.
    @Test func mutatedStreamsAreCutAtTheirLengthPrefixes() {
        let frames = (SignalingSamples.requestBodies + SignalingSamples.frameBodies).map { try! FrameDecoder.frame($0) }
        let mutator = Mutator()
        let report = FuzzTarget("signaling frame stream", defaultIterations: 1500, cost: 4).run(
            { random in
                // A few frames, sometimes enough of them to make the decoder compact its buffer.
                let count = Bool.random(using: &random) ? Int.random(in: 1...4, using: &random) : Int.random(in: 20...80, using: &random)
                let stream = (0..<count).flatMap { _ in frames.randomElement(using: &random)! }
                return mutator.mutate([stream], using: &random)
            },
            property: { input, random in
                try Self.checkStream(input, using: &random)
            })
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    /// Whatever decodes as a request re-encodes, and decodes again to the same request.
    static func checkRequest(_ body: [UInt8]) throws -> Bool {
        let request: ClientRequest
        do throws(SignalingDecodingError) { request = try SignalingCodec.decodeClientRequest(body) } catch {
            try ensure(!error.description.isEmpty, "a refusal without a description")
            return false
        }
        let again = Result { try SignalingCodec.decodeClientRequest(SignalingCodec.encode(request)) }
        try ensure((try? again.get()) == request, "decoded as \(request) but re-encoding gives \(again)")
        return true
    }

    static func checkFrame(_ body: [UInt8]) throws -> Bool {
        let frame: ServerFrame
        do { frame = try SignalingCodec.decodeServerFrame(body) } catch { return false }
        let again = Result { try SignalingCodec.decodeServerFrame(SignalingCodec.encode(frame)) }
        try ensure((try? again.get()) == frame, "decoded as \(frame) but re-encoding gives \(again)")
        return true
    }

    /// The frames the decoder returns are exactly the stream's, in order, up to an error that
    /// is a length prefix of 0 or over the limit, or up to an incomplete last frame.
    static func checkStream<R: RandomNumberGenerator>(_ stream: [UInt8], using random: inout R) throws -> FuzzOutcome {
        var decoder = FrameDecoder()
        var consumed = 0, fed = 0
        var failure: FrameDecoder.Failure?
        reading: while fed < stream.count || fed == 0 {
            let chunk = min(stream.count - fed, Int.random(in: 0...700, using: &random))
            decoder.append(stream[fed..<fed + chunk])
            fed += chunk
            while true {
                do {
                    guard let body = try decoder.nextFrame() else { break }
                    let framed = try FrameDecoder.frame(body)
                    try ensure(
                        stream.count >= consumed + framed.count && Array(stream[consumed..<consumed + framed.count]) == framed,
                        "frame of \(body.count) bytes at offset \(consumed) is not what the stream holds there")
                    consumed += framed.count
                    _ = try? SignalingCodec.decodeClientRequest(body)
                } catch let error as FrameDecoder.Failure {
                    failure = error
                    break reading
                }
            }
            if stream.isEmpty { break }
        }
        let left = stream.count - consumed
        try ensure(decoder.bufferedByteCount == fed - consumed, "buffered \(decoder.bufferedByteCount) bytes, expected \(fed - consumed)")
        guard left >= 4 else {
            try ensure(failure == nil, "\(String(describing: failure)) with only \(left) bytes left")
            return .accepted
        }
        let declared = stream[consumed..<consumed + 4].reduce(0) { $0 << 8 | Int($1) }
        switch failure {
        case .emptyFrame?: try ensure(declared == 0, "emptyFrame at a prefix declaring \(declared) bytes")
        case let .frameTooLarge(length, _)?:
            try ensure(
                length == declared && declared > FrameDecoder.maximumFrameLength,
                "frameTooLarge(\(length)) at a prefix declaring \(declared)")
        case nil:
            try ensure(
                declared > 0 && declared <= FrameDecoder.maximumFrameLength && left < 4 + declared,
                "stopped before a complete \(declared)-byte frame with \(left) bytes left")
            return .accepted
        }
        return .rejected
    }
}
