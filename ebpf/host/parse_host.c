#include "parse_host.h"

#include <string.h>

#include "vigil/parse.h"

typedef int (*vigil_packet_parser)(void* data, void* end, struct vigil_packet* p);

static int parse_frame_with(vigil_packet_parser parse, const void* frame, size_t len,
                            struct vigil_packet* out) {
  memset(out, 0, sizeof(*out));
  if (frame == NULL) {
    /* An empty buffer may come as NULL, and NULL + 0 is undefined in C (found by fuzzing). */
    return VIGIL_PARSE_TRUNCATED_ETHERNET;
  }
  void* data = (void*)frame;
  return parse(data, (char*)data + len, out);
}

int vigil_parse_frame(const void* frame, size_t len, struct vigil_packet* out) {
  return parse_frame_with(vigil_parse_packet, frame, len, out);
}

int vigil_parse_frame_general(const void* frame, size_t len, struct vigil_packet* out) {
  return parse_frame_with(vigil_parse_packet_general, frame, len, out);
}

const char* vigil_parse_result_name(int result) {
  static const char* const names[] = {
#define VIGIL_X(name, text) text,
      VIGIL_PARSE_RESULTS(VIGIL_X)
#undef VIGIL_X
  };
  if (result < 0 || result >= VIGIL_PARSE_RESULT_COUNT) {
    return "unknown";
  }
  return names[result];
}
