internal import CYAML

extension YAMLLoader {
    /// The version of the libyaml chkflow runs with, such as `0.2.5`.
    public static var libyamlVersion: String { String(cString: yaml_get_version_string()) }
}
