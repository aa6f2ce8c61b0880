import Foundation

/// Mutates a signaling message's JSON as a tree rather than as bytes: byte flips mostly make
/// invalid JSON, which the decoder refuses at once, while a value of the wrong type, a missing
/// or extra field, a huge number or another message's `type` (one of `types`) reach the field
/// decoders and, on a server, the handlers behind them.
public enum JSONMutator {
    /// Field names the signaling messages use, for fields added where they do not belong.
    public static let fieldNames = [
        "type", "id", "number", "numbers", "name", "payload", "callID", "kind", "to", "from", "group", "groupId",
        "members", "participants", "code", "open", "record", "ssrc", "dtlsFingerprint", "media", "version",
        "signedPrekey", "oneTimePrekeys", "publicKey", "signature", "identityKey", "createdAt", "count", "nonce"
    ]

    /// A mutation of `body` (a JSON object), or `body` itself if it is not one.
    public static func mutate<R: RandomNumberGenerator>(_ body: [UInt8], types: [String], using random: inout R) -> [UInt8] {
        guard var root = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return body }
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            if Int.random(in: 0..<5, using: &random) == 0, let type = types.randomElement(using: &random) {
                root["type"] = type  // another message's fields under this type
            } else if let mutated = mutate(root, depth: 0, using: &random) as? [String: Any] {
                root = mutated
            }
        }
        guard let data = try? JSONSerialization.data(withJSONObject: root) else { return body }
        return Array(data)
    }

    /// Changes one node somewhere below `value`.
    private static func mutate<R: RandomNumberGenerator>(_ value: Any, depth: Int, using random: inout R) -> Any {
        if var object = value as? [String: Any] {
            let keys = object.keys.sorted()  // sorted: the same seed gives the same mutation
            switch Int.random(in: 0..<6, using: &random) {
            case 0 where !keys.isEmpty:
                object[keys.randomElement(using: &random)!] = nil
            case 1:
                object[fieldNames.randomElement(using: &random)!] = interesting(using: &random)
            case 2 where !keys.isEmpty:
                object[keys.randomElement(using: &random)!] = interesting(using: &random)
            default:
                guard let key = keys.randomElement(using: &random), depth < 8 else { return interesting(using: &random) }
                object[key] = mutate(object[key]!, depth: depth + 1, using: &random)
            }
            return object
        }
        if var array = value as? [Any] {
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !array.isEmpty: array.remove(at: Int.random(in: array.indices, using: &random))
            case 1 where !array.isEmpty: array += Array(repeating: array[0], count: Int.random(in: 1...40, using: &random))
            case 2: array.append(interesting(using: &random))
            default:
                guard !array.isEmpty, depth < 8 else { return interesting(using: &random) }
                let index = Int.random(in: array.indices, using: &random)
                array[index] = mutate(array[index], depth: depth + 1, using: &random)
            }
            return array
        }
        return interesting(using: &random)
    }

    /// A JSON value of some type at a boundary: numbers around integer limits, odd strings,
    /// text that is not base64, empty and nested containers.
    public static func interesting<R: RandomNumberGenerator>(using random: inout R) -> Any {
        let values: [Any] = [
            0, -1, 1, 255, 256, 65_535, 65_536, Int(Int32.max), Int(UInt32.max), Int(UInt32.max) + 1, Int.max, Int.min,
            9_007_199_254_740_993, 1e20, -1e300, 0.5, -0.0, true, false, NSNull(),
            "", " ", "+", "+15550001", "+1555000100000000000", "abc-defg-hij", "g12345678", "AAAA", "AA==", "A", "***", "=",
            String(repeating: "x", count: 65), String(repeating: "9", count: 400), "\u{0}\u{1}\u{7F}", "a\u{202E}b", "é\u{301}😀",
            "\\\"/", "127.0.0.1:0", "[::1]:65536", (0..<32).map { _ in "ZZ" }.joined(separator: ":"),
            [Any](), [String: Any](), [1, "two", NSNull()] as [Any], ["nested": ["deeper": [1]]] as [String: Any],
            (0..<40).reduce([Any]()) { inner, _ in [inner] }
        ]
        return values.randomElement(using: &random)!
    }
}
