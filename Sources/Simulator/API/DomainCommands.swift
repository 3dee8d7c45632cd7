import ChkflowCore

extension SimulatedAPI {
    /// `show-domains`: the named domains of a Multi-Domain Server (System Data and Global are
    /// not listed), paged; a single server has none.
    func showDomains(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(
            call.parameters,
            allowed: ["limit", "offset", "order", "details-level", "filter"]
        )
        let page = try Page(parameters)
        let level = try Self.detailsLevel(parameters)
        let filter = try parameters.string("filter")
        let named = scenario.serverType == .multiDomain ? scenario.domains : []
        let matching = named.filter { name in
            guard let filter, !filter.isEmpty else { return true }
            return name.lowercased().contains(filter.lowercased())
        }
        let objects = page.slice(matching).map { domainObject($0, level: level) }
        return page.reply(objects, total: matching.count, key: "objects")
    }

    private func domainObject(_ name: String, level: String) -> JSON {
        let uid = Identifiers.stableUUID(for: name)
        guard level != "uid" else { return .string(uid) }
        var object: [String: JSON] = [
            "uid": .string(uid),
            "name": .string(name),
            "type": "domain",
            "domain": domainReference(DomainName.systemData),
        ]
        if level == "full" {
            object["servers"] = []
            object["comments"] = ""
            object["color"] = "black"
            object["domain-type"] = "domain"
        }
        return .object(object)
    }
}
