// serviceaccounts/<name>/token: the TokenRequest API (`kubectl create token`, the kubelet's
// projected service-account tokens). Reads the service account and the bound object from the
// store and signs a token with the cluster's service-account key.
#pragma once

#include "src/base/clock.h"
#include "src/server/apiserver/rest_handler.h"
#include "src/server/authn/token_signer.h"
#include "src/store/kv_store.h"

namespace kite::apiserver {

http::Response ServeTokenRequest(const http::Request& request, const RequestInfo& info,
                                 const ProtobufDecoder& protobuf, store::KvStore* kv,
                                 const authn::TokenSigner& signer, Clock* clock);

}  // namespace kite::apiserver
