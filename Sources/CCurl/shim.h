#ifndef CHKFLOW_CCURL_SHIM_H
#define CHKFLOW_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call; these typed
   wrappers are the only way in. */
static inline CURLcode chk_setopt_long(CURL *h, CURLoption o, long v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode chk_setopt_ptr(CURL *h, CURLoption o, const void *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode chk_setopt_write(CURL *h, CURLoption o,
    size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, o, f);
}
static inline CURLcode chk_setopt_xferinfo(CURL *h,
    int (*f)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f);
}
static inline CURLcode chk_setopt_sslctx(CURL *h,
    CURLcode (*f)(CURL *, void *, void *)) {
    return curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, f);
}
static inline CURLcode chk_getinfo_long(CURL *h, CURLINFO i, long *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode chk_getinfo_ptr(CURL *h, CURLINFO i, char **v) {
    return curl_easy_getinfo(h, i, v);
}
/* CURLVERSION_NOW is a macro naming an enum case, which Swift does not import. */
static inline curl_version_info_data *chk_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}
#endif
