package acl

// The built-in policy and token IDs. Consul reserves IDs whose first 120
// bits are zero for built-ins; these two values are Consul's, so that
// tokens and policies in a Consul snapshot keep their meaning here.
const (
	// GlobalManagementPolicyID is the ID of the built-in policy that
	// grants everything, including ACL management.
	GlobalManagementPolicyID = "00000000-0000-0000-0000-000000000001"
	// GlobalManagementPolicyName is that policy's name.
	GlobalManagementPolicyName = "global-management"
	// GlobalManagementPolicyDescription is that policy's description,
	// as Consul shows it.
	GlobalManagementPolicyDescription = "Builtin Policy that grants unlimited access"
	// AnonymousTokenID is the accessor ID of the token used by requests
	// that present none. (Consul also gives its built-in global-read-only
	// policy this value as a policy ID; policy and token IDs are separate
	// spaces.)
	AnonymousTokenID = "00000000-0000-0000-0000-000000000002"
	// ReservedIDPrefix starts every built-in ID (its first 120 bits are
	// zero): no token created through the API may have one.
	ReservedIDPrefix = "00000000-0000-0000-0000-0000000000"
)

// GlobalManagementPolicyRules is the rules text of the global-management
// policy: write on every resource, every prefix, and every single-value
// rule. The text is Consul's byte for byte (ACLPolicyGlobalManagementRules
// in Consul 1.13 and later), because the policy API returns it verbatim and
// tools compare it; mesh and peering parse here but have no effect.
const GlobalManagementPolicyRules = "\n" +
	"acl = \"write\"\n" +
	"agent_prefix \"\" {\n\tpolicy = \"write\"\n}\n" +
	"event_prefix \"\" {\n\tpolicy = \"write\"\n}\n" +
	"key_prefix \"\" {\n\tpolicy = \"write\"\n}\n" +
	"keyring = \"write\"\n" +
	"node_prefix \"\" {\n\tpolicy = \"write\"\n}\n" +
	"operator = \"write\"\n" +
	"mesh = \"write\"\n" +
	"peering = \"write\"\n" +
	"query_prefix \"\" {\n\tpolicy = \"write\"\n}\n" +
	"service_prefix \"\" {\n\tpolicy = \"write\"\n\tintentions = \"write\"\n}\n" +
	"session_prefix \"\" {\n\tpolicy = \"write\"\n}"
