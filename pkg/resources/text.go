package resources

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// NumberOrString decodes a JSON string or a JSON number into its text as
// written: configuration where users write numbers (weight: 2, cpu: 4) and
// strings ("0.5", "500m") alike. Anything else is an error quoting it.
func NumberOrString(data []byte) (string, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return "", fmt.Errorf("want a number or a string, not %s", data)
	}
	return n.String(), nil
}
