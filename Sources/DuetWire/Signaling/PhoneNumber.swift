/// The numbers devices register under: `+` then 1 to 15 digits (E.164's length limit).
/// Checked on both sides so a client can refuse a typo before it reaches the server.
public enum PhoneNumber {
    public static func isValid(_ number: String) -> Bool {
        let utf8 = Array(number.utf8)
        guard utf8.first == UInt8(ascii: "+"), (2...16).contains(utf8.count) else { return false }
        return utf8.dropFirst().allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
