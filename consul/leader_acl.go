package consul

import (
	"fmt"
	"time"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-uuid"
)

// initializeACLs makes sure, on the leader, that the built-in ACL state
// exists: the global-management policy, the anonymous token, and the
// configured initial management token. It runs when leadership is
// established and after every restore, since an archive may lack them.
func (s *Server) initializeACLs() error {
	if !s.config.ACLsEnabled {
		return nil
	}
	store := s.fsm.State()
	if _, p, err := store.ACLPolicyGet(nil, acl.GlobalManagementPolicyID, false); err != nil {
		return err
	} else if p == nil {
		policy := structs.ACLPolicy{
			ID:          acl.GlobalManagementPolicyID,
			Name:        acl.GlobalManagementPolicyName,
			Description: acl.GlobalManagementPolicyDescription,
			Rules:       acl.GlobalManagementPolicyRules,
		}
		if _, err := s.raftApply(structs.ACLPolicySetRequestType, &structs.ACLPolicySetRequest{Policy: policy}); err != nil {
			return fmt.Errorf("create global-management policy: %w", err)
		}
	}
	if _, t, err := store.ACLTokenByAccessor(nil, acl.AnonymousTokenID); err != nil {
		return err
	} else if t == nil {
		anon := structs.ACLToken{
			AccessorID:  acl.AnonymousTokenID,
			SecretID:    anonymousSecret,
			Description: "Anonymous Token",
			CreateTime:  time.Now(),
		}
		if _, err := s.raftApply(structs.ACLTokenSetRequestType, &structs.ACLTokenSetRequest{ACLToken: anon}); err != nil {
			return fmt.Errorf("create anonymous token: %w", err)
		}
	}
	secret := s.config.ACLInitialManagementToken
	if secret == "" {
		return nil
	}
	if _, t, err := store.ACLTokenBySecret(nil, secret); err != nil || t != nil {
		return err
	}
	token, err := managementToken(secret, "Initial Management Token")
	if err != nil {
		return err
	}
	// A configured initial token counts as the bootstrap, as in Consul;
	// once bootstrapped, it is added as a plain token.
	if store.ACLBootstrapIndex() == 0 {
		_, err = s.raftApply(structs.ACLBootstrapRequestType, &structs.ACLTokenBootstrapRequest{Token: *token})
	} else {
		_, err = s.raftApply(structs.ACLTokenSetRequestType, &structs.ACLTokenSetRequest{ACLToken: *token})
	}
	if err != nil {
		return fmt.Errorf("create initial management token: %w", err)
	}
	s.logger.Info("created the initial management token")
	return nil
}

// managementToken is a new token holding the global-management policy;
// an empty secret gets a random one.
func managementToken(secret, description string) (*structs.ACLToken, error) {
	accessor, err := uuid.GenerateUUID()
	if err != nil {
		return nil, err
	}
	if secret == "" {
		if secret, err = uuid.GenerateUUID(); err != nil {
			return nil, err
		}
	}
	return &structs.ACLToken{
		AccessorID:  accessor,
		SecretID:    secret,
		Description: description,
		Policies:    []structs.ACLTokenPolicyLink{{ID: acl.GlobalManagementPolicyID, Name: acl.GlobalManagementPolicyName}},
		CreateTime:  time.Now(),
	}, nil
}
