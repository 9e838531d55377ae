/*
 * openapi — GET /openapi.json: the OpenAPI 3.1 document of every endpoint latchkey
 * serves, docs/openapi.yaml turned into JSON and embedded at build time
 * (tools/yaml2json.py, meson.build). tests/e2e/openapi/ checks real answers against it.
 */
#include "api/api.h"
#include "util/embedded.h"

extern const lk_embedded_file lk_openapi_files[];

void lk_api_openapi(lk_request *r)
{
    const lk_embedded_file *f = &lk_openapi_files[0];
    lk_resp_header(r, "Cache-Control", "no-cache");
    lk_resp_header(r, "Access-Control-Allow-Origin", "*");
    r->status = 200;
    r->content_type = LK_JSON_TYPE;
    r->resp = (const char *)f->data;
    r->resp_len = f->size;
}
