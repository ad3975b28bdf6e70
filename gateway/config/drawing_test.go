package config

import "testing"

func TestDrawingPreviewLimits(t *testing.T) {
	runLoadCases(t, []loadCase{
		{name: "defaults", check: func(c Config) bool {
			return c.Pages.DrawingPreviewMaxBytes == 64<<20 && c.Pages.DrawingPreviewEntities == 200_000
		}},
		{name: "set", yaml: "pages:\n  drawing_preview_max: 16MiB\n  drawing_preview_entities: 50000\n", check: func(c Config) bool {
			return c.Pages.DrawingPreviewMaxBytes == 16<<20 && c.Pages.DrawingPreviewEntities == 50_000
		}},
		{name: "not a size", yaml: "pages:\n  drawing_preview_max: tanto\n", wantErr: "pages.drawing_preview_max"},
		{name: "negative", yaml: "pages:\n  drawing_preview_entities: -1\n", wantErr: "pages.drawing_preview_entities"},
	})
}
