import { createInterface, type Interface } from 'node:readline';
import { ApiError, SendError, UnreadCounts, isEmoji, type Message, type RestClient, type User } from '@parley/client';
import { presenceLines, roomLine, whoLines } from './awareness-lines.js';
import { MessageBook } from './message-book.js';
import { People } from './people.js';
import { RoomSession } from './room-session.js';

const HELP = `commands:
  /register <username> <password>   create an account and log in
  /login <username> <password>      log in
  /rooms [public]                   rooms you belong to (with unread counts), or public rooms
  /who                              who is online in the room you are in
  /dm <name|user-id>                your direct room with someone (created the first time), entered
  /create <name> [private]          create a room (public unless "private") and enter it
  /join <room-id>                   join a room (if needed) and enter it: history, then live
  /leave                            leave the room's live view (you stay a member)
  /history [n]                      the last n messages of the room (default 20)
  /search <words>                   search the room's history
  /edit <#n|id> <text>              replace the text of your message
  /delete <#n|id>                   delete your message (any message, if you own the room)
  /react <#n|id> <emoji>            add your reaction, or take it back if it is there
  /reply <#n|id> <text>             answer a message (its thread)
  /thread <#n|id> [more]            a message and its replies, 20 at a time ("more": the next 20)
  /mentions                         messages that mention you, in all your rooms
messages show as  #n [time] who: text (edited) [👍 2* 🎉 1] (2 replies)   (* = your reaction);
a changed message is shown again as  #n (updated) ...
  /quit                             exit
anything else is sent to the room you are in`;

/** An interactive session: one command per line, live messages printed above the prompt. */
export class Repl {
  private readonly rl: Interface;
  /** Piped input (a script driving the client) gets plain lines: no prompt, no cursor codes. */
  private readonly tty: boolean;
  private room: RoomSession | undefined;
  private me: User | undefined;
  private readonly book = new MessageBook();
  private readonly people = new People();
  /** Per thread parent: the last reply printed, where `/thread … more` goes on. */
  private readonly threadAt = new Map<string, string>();

  constructor(
    private readonly api: RestClient,
    private readonly wsUrl: string,
    input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
  ) {
    this.tty = (output as { isTTY?: boolean }).isTTY === true;
    this.rl = createInterface({ input, output, terminal: this.tty });
  }

  /** Resolves when the user quits or input ends. */
  async run(): Promise<void> {
    if (this.api.token) this.me = await this.api.me();
    this.print(`parley: type /help for commands${this.api.token ? '' : '; start with /register or /login'}`);
    this.prompt();
    return new Promise((resolve) => {
      // Lines are handled one after another so piped input keeps its order.
      let chain = Promise.resolve();
      this.rl.on('line', (line) => {
        chain = chain.then(() => this.handle(line.trim())).then(() => this.prompt());
      });
      this.rl.on('close', () => void chain.then(() => this.room?.drain(5000)).then(() => this.room?.close()).then(resolve));
    });
  }

  private async handle(line: string): Promise<void> {
    if (line === '') return;
    if (!line.startsWith('/')) return this.say(line);
    const [cmd, ...args] = line.split(/\s+/);
    try {
      await this.command(cmd!, args, line.slice(cmd!.length).trim());
    } catch (err) {
      if (!(err instanceof ApiError)) return this.print(`! ${(err as Error).message}`);
      this.print(`! ${err.code}: ${err.message}${err.status ? ` (HTTP ${err.status})` : ''}`);
    }
  }

  private async command(cmd: string, args: string[], rest: string): Promise<void> {
    switch (cmd) {
      case '/help':
        return this.print(HELP);
      case '/register':
      case '/login': {
        if (args.length !== 2) return this.print(`usage: ${cmd} <username> <password>`);
        if (cmd === '/register') await this.api.register(args[0]!, args[1]!);
        this.me = (await this.api.login(args[0]!, args[1]!)).user;
        return this.print(`logged in as ${this.me.username} (${this.me.id})`);
      }
      case '/rooms':
        return this.rooms(args[0] === 'public' ? 'public' : 'mine');
      case '/who':
        return whoLines(this.inRoom().online, this.me?.id).forEach((l) => this.print(l));
      case '/dm': {
        if (args.length !== 1) return this.print('usage: /dm <name|user-id>');
        const who = this.people.resolve(args[0]!);
        if ('problem' in who) return this.print(`! ${who.problem}`);
        if (who.id === this.me?.id) return this.print('! a direct room is with someone else');
        const room = await this.api.directRoom(who.id);
        return this.enter(room.id, `direct with ${this.people.nameOf(who.id) ?? who.id}`);
      }
      case '/create': {
        const priv = args[args.length - 1] === 'private';
        const name = (priv ? args.slice(0, -1) : args).join(' ');
        if (!name) return this.print('usage: /create <name> [private]');
        const room = await this.api.createRoom(name, priv ? 'private' : 'public');
        this.print(`created ${room.name}: ${room.id}`);
        return this.enter(room.id, room.name);
      }
      case '/join': {
        if (args.length !== 1) return this.print('usage: /join <room-id>');
        const room = await this.api.ensureMember(args[0]!);
        return this.enter(room.id, room.name);
      }
      case '/leave':
        this.room?.close();
        this.room = undefined;
        return this.print('left the live view');
      case '/history': {
        const page = await this.api.history(this.requireRoom(), { limit: Number(args[0] ?? 20), order: 'newest' });
        return page.messages.reverse().forEach((x) => this.show(x));
      }
      case '/search': {
        if (!rest) return this.print('usage: /search <words>');
        const found = (await this.api.search(this.requireRoom(), rest, { limit: 20 })).messages;
        this.print(`${found.length} found`);
        return found.forEach((x) => this.show(x));
      }
      case '/edit':
      case '/reply': {
        const text = rest.slice((args[0] ?? '').length).trim();
        const target = this.target(args[0], text ? undefined : `usage: ${cmd} <#n|id> <text>`);
        if (!target) return;
        if (cmd === '/reply') return this.say(text, target);
        return this.inRoom().change('edit', (s) => s.edit(target, text));
      }
      case '/delete': {
        const target = this.target(args[0], args.length === 1 ? undefined : 'usage: /delete <#n|id>');
        if (target) this.inRoom().change('delete', (s) => s.delete(target));
        return;
      }
      case '/react': {
        const emoji = args[1] ?? '';
        const target = this.target(args[0], args.length === 2 && isEmoji(emoji) ? undefined : 'usage: /react <#n|id> <emoji> (exactly one emoji)');
        if (target) this.inRoom().change('react', (s) => s.react(target, emoji, !this.book.reacted(target, emoji)));
        return;
      }
      case '/thread':
        return this.thread(args);
      case '/mentions': {
        const found = (await this.api.mentions({ limit: 20 })).messages;
        this.print(`${found.length} message(s) mention you`);
        return found.forEach((x) => this.show(x));
      }
      case '/quit':
        return void this.rl.close();
      default:
        return this.print(`unknown command ${cmd}; /help lists them`);
    }
  }

  private async enter(roomId: string, name: string): Promise<void> {
    if (!this.api.token || !this.me) throw new Error('log in first');
    this.room?.close();
    this.room = undefined;
    const session = new RoomSession(this.api, this.wsUrl, roomId, this.me.id, {
      history: (msgs, more, resumed) => {
        if (resumed) this.print(`-- back in ${name}${msgs.length ? `, ${msgs.length} missed meanwhile${more ? ' (more via /history)' : ''}` : ''} --`);
        else this.print(`-- ${name}: ${msgs.length} earlier message(s)${more ? ', older ones via /history' : ''} --`);
        msgs.forEach((m) => this.show(m));
        if (!resumed) this.print('-- live --');
      },
      message: (m) => this.show(m),
      updated: (m) => {
        if (this.book.remember(m).changed) this.show(m, true);
      },
      notice: (t) => this.print(`* ${t}`),
      presence: (joined, left, initial) => {
        for (const m of joined) this.people.see(m.user_id, m.name);
        presenceLines(joined, left, initial, this.me?.id).forEach((l) => this.print(`* ${l}`));
      },
    });
    await session.open();
    this.room = session;
  }

  /** Your rooms with what is unread in each (the counts are left out, with a note, when they cannot be read). */
  private async rooms(scope: 'mine' | 'public'): Promise<void> {
    const [rooms, unread] = await Promise.all([this.api.listRooms(scope), scope === 'mine' && this.me ? this.unread(this.me.id) : undefined]);
    if (rooms.length === 0) return this.print('no rooms');
    for (const r of rooms) this.print(roomLine(r, r.id === this.room?.roomId ? undefined : unread?.of(r.id)));
  }

  private async unread(selfId: string): Promise<UnreadCounts | undefined> {
    try {
      const counts = new UnreadCounts(selfId);
      counts.fromRest(await this.api.unread());
      return counts;
    } catch (err) {
      this.print(`* unread counts unavailable (${err instanceof ApiError ? err.code : (err as Error).message})`);
      return undefined;
    }
  }

  /** The message a command names, or undefined after printing why there is none (or `usage`). */
  private target(ref: string | undefined, usage: string | undefined): string | undefined {
    if (usage) return void this.print(usage);
    const r = this.book.resolve(ref);
    if ('problem' in r) return void this.print(`! ${r.problem}`);
    this.inRoom();
    return r.id;
  }

  private inRoom(): RoomSession {
    if (!this.room) throw new Error('not in a room: /create or /join first');
    return this.room;
  }

  private async thread(args: string[]): Promise<void> {
    const parent = this.target(args[0], args.length === 1 || (args.length === 2 && args[1] === 'more') ? undefined : 'usage: /thread <#n|id> [more]');
    if (!parent) return;
    const after = args[1] === 'more' ? this.threadAt.get(parent) : undefined;
    const page = await this.api.thread(this.inRoom().roomId, parent, { limit: 20, ...(after ? { afterId: after } : {}) });
    if (!after) this.show(page.parent);
    this.print(`-- ${page.messages.length} repl${page.messages.length === 1 ? 'y' : 'ies'}${page.has_more ? `; more with /thread ${args[0]} more` : ''} --`);
    page.messages.forEach((x) => this.show(x));
    const last = page.messages.at(-1);
    if (last) this.threadAt.set(parent, last.id);
  }

  private say(text: string, replyTo?: string): void {
    if (!this.room) return this.print('not in a room: /create or /join first');
    try {
      this.room.send(text, replyTo);
    } catch (err) {
      if (!(err instanceof SendError)) throw err;
      this.print(`! not sent: ${err.message}`);
    }
  }

  private requireRoom(): string {
    if (!this.room) throw new Error('not in a room: /join first');
    return this.room.roomId;
  }

  private show(m: Message, updated = false): void {
    this.people.see(m.sender_id, m.sender_name);
    const line = this.book.line(m, this.me?.id);
    this.print(updated ? line.replace(/^(#\d+) /, '$1 (updated) ') : line);
  }

  /** Prints above the prompt without eating what the user is typing. */
  private print(text: string): void {
    if (!this.tty) return void this.output.write(`${text}\n`);
    this.output.write(`\r\x1b[K${text}\n`);
    this.prompt(true);
  }

  private prompt(keep = false): void {
    if (!this.tty) return;
    this.rl.setPrompt(this.room ? `${this.me?.username ?? ''}> ` : 'parley> ');
    this.rl.prompt(keep);
  }
}
