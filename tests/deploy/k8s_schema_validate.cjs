// Validates Kubernetes objects (a JSON array on stdin) against the Kubernetes OpenAPI schemas, as
// compiled into the npm package kubernetes-models (4.5.1: Kubernetes 1.27 API, JSON Schema via
// ajv: types, required fields, enums, formats such as quantities). Unknown fields are not caught
// here (the OpenAPI schemas allow them); k8s_check.py does that with python3-kubernetes' models.
//   NODE_PATH=<dir>/node_modules node k8s_schema_validate.cjs < objects.json
"use strict";
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const objects = JSON.parse(input);
  let failed = 0;
  for (const obj of objects) {
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [null, obj.apiVersion];
    const module = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
    const name = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
    let Model;
    try {
      Model = require(module)[obj.kind];
    } catch (e) {
      Model = undefined;
    }
    if (!Model) {
      console.log(`FAIL ${obj.apiVersion} ${name}: no schema for this apiVersion/kind in kubernetes-models`);
      failed++;
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      console.log(`FAIL ${obj.apiVersion} ${name}: ${e.message}`);
      failed++;
    }
  }
  console.log(`schema: ${objects.length - failed} of ${objects.length} objects valid`);
  process.exit(failed ? 1 : 0);
});
