package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/xeipuuv/gojsonschema"
)

// validateValues checks the merged values against the chart's values.schema.json, as helm install/template/lint do, with
// the library helm 3 uses (gojsonschema) and helm's wording. No schema file: nothing to check.
func validateValues(chartDir, chartName string, vals map[string]interface{}) error {
	schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	valuesJSON, err := json.Marshal(vals)
	if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(valuesJSON))
	if err != nil {
		return fmt.Errorf("values.schema.json: %v", err)
	}
	if result.Valid() {
		return nil
	}
	var sb strings.Builder
	for _, e := range result.Errors() {
		fmt.Fprintf(&sb, "- %s\n", e)
	}
	return errors.New("values don't meet the specifications of the schema(s) in the following chart(s):\n" + chartName + ":\n" + sb.String())
}
