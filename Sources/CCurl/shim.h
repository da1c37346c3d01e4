#ifndef HERALD_CCURL_SHIM_H
#define HERALD_CCURL_SHIM_H

#include <curl/curl.h>

/*
 * Typed wrappers for libcurl's variadic calls (curl_easy_setopt, curl_easy_getinfo, curl_multi_setopt),
 * which Swift cannot call directly, plus constants that do not import cleanly (macros built from other
 * macros). Everything here is `static inline`: a system-library target cannot hold .c files.
 */

/* MARK: - Callback types */

/* CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION and CURLOPT_READFUNCTION share this shape. */
typedef size_t (*herald_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);

/* MARK: - Easy options */

static inline CURLcode herald_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_write_function(CURL *handle, herald_curl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode herald_easy_setopt_header_function(CURL *handle, herald_curl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

static inline CURLcode herald_easy_setopt_read_function(CURL *handle, herald_curl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

/* MARK: - Easy info */

static inline CURLcode herald_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode herald_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode herald_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode herald_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    return curl_easy_getinfo(handle, info, value);
}

/* CURLINFO_PRIVATE is declared as a string but carries whatever pointer CURLOPT_PRIVATE was given. */
static inline void *herald_easy_getinfo_private(CURL *handle) {
    char *value = NULL;
    if (curl_easy_getinfo(handle, CURLINFO_PRIVATE, &value) != CURLE_OK) {
        return NULL;
    }
    return (void *)value;
}

/* MARK: - Multi options and messages */

static inline CURLMcode herald_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

/* The CURLcode of a CURLMSG_DONE message (a member of an anonymous union in CURLMsg). */
static inline CURLcode herald_multi_message_result(const CURLMsg *message) {
    return message->data.result;
}

/* MARK: - Constants that do not import cleanly */

static inline long herald_curl_global_all(void) {
    return CURL_GLOBAL_ALL;
}

static inline long herald_curl_error_size(void) {
    return CURL_ERROR_SIZE;
}

/* Renamed to CURLOPT_MAIL_RCPT_ALLOWFAILS in 8.2.0; the 7.88.1 spelling has three Ls (option 290). */
static inline CURLoption herald_curlopt_mail_rcpt_allowfails(void) {
    return (CURLoption)290;
}

#endif /* HERALD_CCURL_SHIM_H */
