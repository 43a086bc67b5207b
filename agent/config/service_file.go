package config

import (
	"fmt"
	"os"
	"reflect"

	"github.com/consulcompat/consul/structs"
)

// LoadServiceFile reads the service definitions of one file (HCL or JSON,
// by extension), as `consul services register FILE` takes them: the file
// may hold service/services blocks and nothing else.
func LoadServiceFile(path string) ([]*structs.ServiceDefinition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var cfg Config
	if err := decodeFile(path, formatOf(path), data, &cfg); err != nil {
		return nil, err
	}
	services := cfg.Services
	cfg.Services = nil
	if !reflect.DeepEqual(cfg, Config{}) {
		return nil, fmt.Errorf("config: %s: only service definitions may be given here", path)
	}
	if len(services) == 0 {
		return nil, fmt.Errorf("config: %s: no service definition found", path)
	}
	return services, nil
}
