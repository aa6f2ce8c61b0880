import DuetWire

/// What a number must look like to name a contact or a group member (+ and 1–15 digits, the
/// rule the server applies): here so a screen can check what is typed without wire types.
public enum ContactNumber {
    public static func isValid(_ text: String) -> Bool { PhoneNumber.isValid(text) }
}
