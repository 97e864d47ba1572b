"""Party-organisation life (issue 14): one capability in five Django apps, one per area of
the rules (domain-rules §2–§5), so that each keeps its own models and migrations. This
package's own app holds what spans them: the driver's and the staff's party index pages and
the demo hook order. See docs/party-life.md."""
