/** The account's groups as a `<select>`'s options, after the select's own (none, all…). */
import type { JSX } from "preact";
import type { ChannelGroup } from "../types.ts";

export function GroupOptions({ groups }: { groups: ChannelGroup[] | undefined }): JSX.Element {
  return (
    <>
      {(groups ?? []).map((g) => (
        <option value={g.id} key={g.id}>
          {g.name}
        </option>
      ))}
    </>
  );
}
