// Reads a JSON array of ScaledObjects on stdin; validates each against KEDA's CRD schema
// (@kubernetes-models/keda, generated from KEDA's CustomResourceDefinitions). Exit 1 if any
// is invalid. Used by tests/deploy/test_kubernetes.py.
import { readFileSync } from 'node:fs';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';

let failed = 0;
for (const doc of JSON.parse(readFileSync(0, 'utf8'))) {
  try {
    new ScaledObject(doc).validate();
    console.log(`ok ${doc.metadata.name}`);
  } catch (err) {
    failed += 1;
    console.log(`invalid ${doc?.metadata?.name}: ${err.message}`);
  }
}
process.exit(failed ? 1 : 0);
