/// One libyaml parsing event, converted to Swift values so that nothing outside the parser
/// wrapper touches C memory.
enum Event {
    case streamStart
    case streamEnd
    case documentStart(Mark)
    case documentEnd
    case scalar(Node.Scalar, anchor: String?, mark: Mark)
    case alias(anchor: String, mark: Mark)
    case sequenceStart(anchor: String?, mark: Mark)
    case sequenceEnd
    case mappingStart(anchor: String?, mark: Mark)
    case mappingEnd
}
