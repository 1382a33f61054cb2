package mesos

import (
	"encoding/json"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/framing"
)

// codec returns the media codec: protobuf by default; JSON when asked, with
// a decoder that tolerates enum values newer than mesos-go v0.0.11 knows. A
// Mesos 1.12 master lists the capability QUOTA_V2 in SUBSCRIBED, which
// mesos-go's generated JSON decoder rejects ("unrecognized enum"); its
// protobuf decoder keeps unknown enum numbers.
func codec(useJSON bool) encoding.Codec {
	if !useJSON {
		return codecs.ByMediaType[codecs.MediaTypeProtobuf]
	}
	c := codecs.ByMediaType[codecs.MediaTypeJSON]
	c.NewDecoder = func(s encoding.Source) encoding.Decoder {
		dec := framing.NewDecoder(s(), tolerantUnmarshal)
		return encoding.DecoderFunc(func(u encoding.Unmarshaler) error { return dec.Decode(u) })
	}
	return c
}

// tolerantUnmarshal unmarshals JSON; on an unknown enum it drops the master
// capabilities mesos-go does not know and tries once more.
func tolerantUnmarshal(b []byte, m interface{}) error {
	err := json.Unmarshal(b, m)
	if err == nil || !strings.Contains(err.Error(), "unrecognized enum") {
		return err
	}
	var doc map[string]interface{}
	if json.Unmarshal(b, &doc) != nil {
		return err
	}
	if !dropUnknownCapabilities(doc) {
		return err
	}
	fixed, merr := json.Marshal(doc)
	if merr != nil {
		return err
	}
	return json.Unmarshal(fixed, m)
}

// dropUnknownCapabilities removes unknown entries of
// subscribed.master_info.capabilities; it reports whether it removed any.
func dropUnknownCapabilities(doc map[string]interface{}) bool {
	sub, _ := doc["subscribed"].(map[string]interface{})
	mi, _ := sub["master_info"].(map[string]interface{})
	caps, _ := mi["capabilities"].([]interface{})
	kept := caps[:0]
	for _, c := range caps {
		if m, ok := c.(map[string]interface{}); ok {
			if t, ok := m["type"].(string); ok {
				if _, known := mesos.MasterInfo_Capability_Type_value[t]; !known {
					continue
				}
			}
		}
		kept = append(kept, c)
	}
	if len(kept) == len(caps) {
		return false
	}
	mi["capabilities"] = kept
	return true
}
