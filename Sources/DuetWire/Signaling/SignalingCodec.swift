import Foundation

/// Why a frame's JSON could not be read as a message. `id` is the request id when it could
/// still be read, so the error reply can name the request it refuses.
public enum SignalingDecodingError: Error, Equatable, CustomStringConvertible {
    case invalidJSON
    case missingType(id: UInt32?)
    case unknownType(String, id: UInt32?)
    case invalidMessage(type: String, reason: String, id: UInt32?)

    public var id: UInt32? {
        switch self {
        case .invalidJSON: nil
        case let .missingType(id), let .unknownType(_, id), let .invalidMessage(_, _, id): id
        }
    }

    public var code: SignalingErrorCode {
        switch self {
        case .invalidJSON: .invalidJSON
        case .missingType, .invalidMessage: .invalidMessage
        case .unknownType: .unknownType
        }
    }

    public var description: String {
        switch self {
        case .invalidJSON: "frame is not a JSON object"
        case .missingType: "message has no \"type\" field"
        case let .unknownType(type, _): "unknown message type \"\(type)\""
        case let .invalidMessage(type, reason, _): "malformed \"\(type)\" message: \(reason)"
        }
    }
}

/// JSON encoding of signaling messages: one object per frame, `type` and `id` beside the
/// payload's own fields.
public enum SignalingCodec {
    struct Empty: Codable {}

    private struct Envelope<Payload: Encodable>: Encodable {
        let type: String
        let id: UInt32?
        let payload: Payload

        enum CodingKeys: String, CodingKey { case type, id }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encodeIfPresent(id, forKey: .id)
            try payload.encode(to: encoder)
        }
    }

    private struct Probe: Decodable {
        let type: String?
        let id: UInt32?
    }

    static func encode(type: String, id: UInt32?, payload: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Payloads are plain structs of strings, numbers and arrays: encoding cannot fail.
        return Array(try! encoder.encode(Envelope(type: type, id: id, payload: payload)))
    }

    static func probe(_ body: [UInt8]) throws(SignalingDecodingError) -> (type: String, id: UInt32?) {
        let probe: Probe
        do {
            probe = try JSONDecoder().decode(Probe.self, from: Data(body))
        } catch {
            // Valid JSON whose id is not a UInt32 still deserves "invalid message", not "invalid JSON".
            if (try? JSONSerialization.jsonObject(with: Data(body))) is [String: Any] {
                throw .invalidMessage(type: "?", reason: "\"type\" must be a string and \"id\" an unsigned 32-bit integer", id: nil)
            }
            throw .invalidJSON
        }
        guard let type = probe.type else { throw .missingType(id: probe.id) }
        return (type, probe.id)
    }

    static func payload<P: Decodable>(_ body: [UInt8], _ type: String) throws(SignalingDecodingError) -> P {
        do {
            return try JSONDecoder().decode(P.self, from: Data(body))
        } catch let error as DecodingError {
            throw .invalidMessage(type: type, reason: Self.describe(error), id: try? probe(body).id)
        } catch {
            throw .invalidMessage(type: type, reason: "\(error)", id: nil)
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context):
            let p = path(context)
            return "missing field \"\(p.isEmpty ? key.stringValue : p + "." + key.stringValue)\""
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "field \"\(path(context))\" has the wrong type"
        case let .dataCorrupted(context):
            return "field \"\(path(context))\": \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
