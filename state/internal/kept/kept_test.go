package kept

import (
	"bytes"
	"testing"

	"github.com/bassareggiana/faldone/state"
)

func TestPropsRoundTrip(t *testing.T) {
	for _, props := range [][]state.Prop{
		nil,
		{{PropName: state.PropName{Space: "urn:x", Local: "a"}}},
		{
			{PropName: state.PropName{Space: "DAV:", Local: "displayname"}, Lang: "it", InnerXML: []byte("Perché è «già»")},
			{PropName: state.PropName{Space: "", Local: "\xff\x00"}, InnerXML: []byte("\x00\xfe<a/>")},
			{PropName: state.PropName{Space: "urn:y", Local: "big"}, InnerXML: bytes.Repeat([]byte("x"), 1<<17)},
		},
	} {
		got, err := DecodeProps(EncodeProps(props))
		if err != nil {
			t.Fatalf("DecodeProps: %v", err)
		}
		if len(got) != len(props) {
			t.Fatalf("got %d properties, want %d", len(got), len(props))
		}
		for i := range props {
			if got[i].PropName != props[i].PropName || got[i].Lang != props[i].Lang ||
				!bytes.Equal(got[i].InnerXML, props[i].InnerXML) || got[i].InnerXML == nil {
				t.Errorf("property %d = %+v, want %+v", i, got[i], props[i])
			}
		}
	}
}

func TestDecodeDamaged(t *testing.T) {
	good := EncodeProps([]state.Prop{{PropName: state.PropName{Space: "urn:x", Local: "a"}, InnerXML: []byte("v")}})
	for _, b := range [][]byte{nil, {}, {2, 0}, good[:len(good)-1], append(append([]byte{}, good...), 0), {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
		if _, err := DecodeProps(b); err == nil {
			t.Errorf("DecodeProps(%x) took it", b)
		}
	}
}
