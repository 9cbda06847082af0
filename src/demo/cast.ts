/**
 * Who lives in the demo community and what they said before you arrived: collectors of vintage
 * computer manuals, their posts (several with a scan attached) and the conversations under them.
 * Plain data; community.ts plays it out on real nodes.
 */

/** The interest topic every collector announces, where a newcomer finds them. */
export const INTEREST = 'vintage-manuals'

export interface ScanSpec {
  /** The attachment's file name, as the newcomer sees it. */
  file: string
  mib: number
}

export interface PostSpec {
  /** How conversations name this post: COLLECTOR/SLUG. */
  key: string
  text: string
  scan?: ScanSpec
}

export interface CollectorSpec {
  key: string
  name: string
  bio: string
  posts: PostSpec[]
  /** The last words of each answer to a newcomer: what this collector is like. */
  signOff: string
}

export interface CommentSpec {
  /** How later comments name this one. */
  key: string
  /** The collector who writes it. */
  by: string
  /** The post or comment it answers. */
  on: string
  text: string
}

export const COLLECTORS: CollectorSpec[] = [
  {
    key: 'ada',
    name: 'Ada Kaypro',
    bio: 'Kaypro and CP/M portables. Scanning every Kaypro manual I can find, at 600 dpi.',
    signOff: 'Happy CP/M hacking!',
    posts: [
      {
        key: 'ada/kaypro-ii',
        text: "Kaypro II User's Guide (1982), complete scan at 600 dpi, schematics foldout included. #vintage-manuals #kaypro",
        scan: { file: 'kaypro-ii-users-guide-1982.pdf', mib: 6 }
      },
      {
        key: 'ada/perfect-writer',
        text: 'The Perfect Writer quick reference card that came in the Kaypro box, both sides. #vintage-manuals',
        scan: { file: 'perfect-writer-quick-reference-1983.pdf', mib: 2 }
      },
      {
        key: 'ada/kaypro-10',
        text: 'Looking for the Kaypro 10 hard disk service manual. Anyone? Happy to trade scans. #vintage-manuals'
      }
    ]
  },
  {
    key: 'grace',
    name: 'Grace Osborne',
    bio: 'Osborne 1 owner since 1981. Documentation, not nostalgia.',
    signOff: 'Keep those binders dry.',
    posts: [
      {
        key: 'grace/osborne-1',
        text: "Osborne 1 User's Reference Guide (1981), the thick blue binder, every tab. #vintage-manuals #osborne",
        scan: { file: 'osborne-1-users-reference-guide-1981.pdf', mib: 7 }
      },
      {
        key: 'grace/scrolling',
        text: "Did you know the Osborne's 52-column screen is a window on a 128-column page? CTRL + arrows scroll it. Section 3 of the guide. #vintage-manuals"
      }
    ]
  },
  {
    key: 'lin',
    name: 'Lin Commodore',
    bio: "Commodore PET, VIC-20 and C64. Programmer's Reference Guides and service manuals.",
    signOff: 'READY.',
    posts: [
      {
        key: 'lin/c64-prg',
        text: "Commodore 64 Programmer's Reference Guide, first printing (1982), with the memory map poster. #vintage-manuals #commodore",
        scan: { file: 'c64-programmers-reference-guide-1982.pdf', mib: 8 }
      },
      {
        key: 'lin/vic-20',
        text: 'VIC-20 service manual (1981). The board layout foldout is scanned in two halves. #vintage-manuals',
        scan: { file: 'vic-20-service-manual-1981.pdf', mib: 4 }
      }
    ]
  },
  {
    key: 'ken',
    name: 'Ken Tandy',
    bio: 'TRS-80 Model I and III. Radio Shack catalogs too, for the prices.',
    signOff: 'Radio Shack forever.',
    posts: [
      {
        key: 'ken/model-iii',
        text: 'TRS-80 Model III Operation and BASIC Language Reference Manual (1980), 600 dpi. #vintage-manuals #trs-80',
        scan: { file: 'trs-80-model-iii-operation-manual-1980.pdf', mib: 5 }
      },
      {
        key: 'ken/catalog',
        text: 'Radio Shack 1983 computer catalog (RSC-9). The prices will make you cry. #vintage-manuals',
        scan: { file: 'radio-shack-computer-catalog-1983.pdf', mib: 3 }
      }
    ]
  },
  {
    key: 'joan',
    name: 'Joan Altair',
    bio: 'MITS Altair 8800 and the S-100 bus. Front panels and jumper tables.',
    signOff: 'Toggle on.',
    posts: [
      {
        key: 'joan/altair',
        text: "Altair 8800 Operator's Manual (MITS, 1975), with the front panel programming walkthrough. #vintage-manuals #altair",
        scan: { file: 'altair-8800-operators-manual-1975.pdf', mib: 3 }
      },
      {
        key: 'joan/2sio',
        text: 'Which revision of the 88-2SIO serial board manual has the corrected jumper table? Mine disagrees with the board. #vintage-manuals'
      }
    ]
  }
]

/** The conversations, oldest first. Each answers a post or an earlier comment. */
export const CONVERSATIONS: CommentSpec[] = [
  { key: 'g1', by: 'grace', on: 'ada/kaypro-ii', text: 'Beautiful scan. The schematics foldout on page 47 is sharper than my original.' },
  { key: 'a1', by: 'ada', on: 'g1', text: 'Thanks! That foldout took three passes on the flatbed.' },
  { key: 'l1', by: 'lin', on: 'a1', text: 'Flatbed tip: a black sheet behind thin pages stops the bleed-through.' },
  { key: 'k1', by: 'ken', on: 'ada/kaypro-ii', text: "Is this the revision with the 2.2 ROM notes? Mine says 'rev B' on the spine." },
  { key: 'a2', by: 'ada', on: 'k1', text: 'Rev C. The 2.2 ROM notes are in appendix D.' },
  { key: 'a3', by: 'ada', on: 'grace/osborne-1', text: 'The binder tabs are in there too. Nice touch!' },
  { key: 'j1', by: 'joan', on: 'grace/osborne-1', text: 'The Osborne 1 was the first machine I ever repaired. Keeping this one.' },
  { key: 'g2', by: 'grace', on: 'j1', text: 'The disk drive alignment section saved mine, twice.' },
  { key: 'k2', by: 'ken', on: 'lin/c64-prg', text: 'Appendix O, the memory map, is the one page everyone needs.' },
  { key: 'l2', by: 'lin', on: 'k2', text: 'Which is why appendix O is at 1200 dpi: the small print reads.' },
  { key: 'g3', by: 'grace', on: 'k2', text: 'I had it taped above my desk for years.' },
  { key: 'j2', by: 'joan', on: 'ken/model-iii', text: 'The Level II BASIC chapter is better than most BASIC books of the time.' },
  { key: 'k3', by: 'ken', on: 'j2', text: 'Agreed. It taught me to program.' },
  { key: 'a4', by: 'ada', on: 'joan/2sio', text: 'Revision 2 has the corrected table. I have a photocopy, I will scan it this weekend.' },
  { key: 'j3', by: 'joan', on: 'a4', text: 'You are a star.' },
  { key: 'k4', by: 'ken', on: 'ada/kaypro-10', text: 'A friend has one. I will ask him to lend it.' },
  { key: 'l3', by: 'lin', on: 'ken/catalog', text: '$3,999 for a Model 16. Ouch.' }
]
